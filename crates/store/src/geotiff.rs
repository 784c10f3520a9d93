//! surface.tif: the classified surface as a GeoTIFF in the region's UTM zone (0 none,
//! 1 blue, 2 yellow, 3 orange, 4 red; 0 is nodata), plus a GDAL PAM sidecar
//! (surface.tif.aux.xml) with the four colours and class names for QGIS / ArcGIS.

use riskmap_analyze::surface::Surface;
use riskmap_core::style::{parse_hex, Style};
use tiff::encoder::{colortype::Gray8, Compression, DeflateLevel, TiffEncoder};
use tiff::tags::Tag;

/// Encode the class raster (north-up) as a deflate-compressed, georeferenced GeoTIFF.
pub fn encode(s: &Surface) -> Result<Vec<u8>, tiff::TiffError> {
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut enc =
        TiffEncoder::new(&mut buf)?.with_compression(Compression::Deflate(DeflateLevel::Balanced));
    let (w, h) = (s.width as u32, s.height as u32);
    let mut img = enc.new_image::<Gray8>(w, h)?;
    let north_top = s.y0 + s.height as f64 * s.res;
    img.encoder()
        .write_tag(Tag::ModelPixelScaleTag, &[s.res, s.res, 0.0][..])?;
    img.encoder().write_tag(
        Tag::ModelTiepointTag,
        &[0.0, 0.0, 0.0, s.x0, north_top, 0.0][..],
    )?;
    let epsg = s.utm.epsg();
    // GeoKeyDirectory: version 1.1.0, 4 keys: projected model, pixel-is-area, EPSG code, metres
    let keys: [u16; 20] = [
        1, 1, 0, 4, 1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, epsg, 3076, 0, 1, 9001,
    ];
    img.encoder()
        .write_tag(Tag::GeoKeyDirectoryTag, &keys[..])?;
    img.encoder().write_tag(Tag::GdalNodata, "0")?;
    img.rows_per_strip(64)?;
    // rows are stored south-first; TIFF wants the top row first
    let mut data = Vec::with_capacity(s.classes.len());
    for row in (0..s.height).rev() {
        data.extend_from_slice(&s.classes[row * s.width..(row + 1) * s.width]);
    }
    img.write_data(&data)?;
    drop(enc);
    Ok(buf.into_inner())
}

/// The PAM sidecar with the colour table and category names.
pub fn aux_xml(style: &Style) -> String {
    let c = &style.colors;
    let entries: Vec<String> = [
        None,
        Some(&c.blue),
        Some(&c.yellow),
        Some(&c.orange),
        Some(&c.red),
    ]
    .iter()
    .map(|col| match col.and_then(|h| parse_hex(h)) {
        Some([r, g, b]) => format!("        <Entry c1=\"{r}\" c2=\"{g}\" c3=\"{b}\" c4=\"255\"/>"),
        None => "        <Entry c1=\"0\" c2=\"0\" c3=\"0\" c4=\"0\"/>".to_string(),
    })
    .collect();
    format!(
        "<PAMDataset>\n  <PAMRasterBand band=\"1\">\n    <Description>risk level (0 none, 1 blue, 2 yellow, 3 orange, 4 red)</Description>\n    <NoDataValue>0</NoDataValue>\n    <ColorInterp>Palette</ColorInterp>\n    <CategoryNames>\n      <Category>无</Category>\n      <Category>低风险</Category>\n      <Category>一般风险</Category>\n      <Category>较大风险</Category>\n      <Category>重大风险</Category>\n    </CategoryNames>\n    <ColorTable>\n{}\n    </ColorTable>\n  </PAMRasterBand>\n</PAMDataset>\n",
        entries.join("\n")
    )
}
