//! report.xlsx: one sheet per report table, Chinese headers, the header row frozen and
//! bold, column widths from the content, numbers as numbers.

use super::{Cell, Report};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};

/// Sheet names: Excel allows 31 characters and no `[]:*?/\`.
fn sheet_name(title: &str) -> String {
    title
        .chars()
        .filter(|c| !"[]:*?/\\（）()".contains(*c))
        .take(28)
        .collect()
}

/// Display width of a cell (CJK counts double).
fn width(s: &str) -> f64 {
    s.chars()
        .map(|c| if c.is_ascii() { 1.0 } else { 2.0 })
        .sum()
}

pub fn write(r: &Report) -> Result<Vec<u8>, crate::Error> {
    let err = |e: rust_xlsxwriter::XlsxError| crate::Error::Input(format!("report.xlsx: {e}"));
    let mut wb = Workbook::new();
    // a fixed creation time (the data date when it is one), so the same inputs give the
    // same bytes
    let created = ExcelDateTime::parse_from_str(&r.data_date)
        .or_else(|_| ExcelDateTime::from_ymd(2000, 1, 1))
        .map_err(err)?;
    wb.set_properties(
        &DocProperties::new()
            .set_title(&r.title)
            .set_creation_datetime(&created),
    );
    let bold = Format::new().set_bold().set_background_color("#E8EEF5");
    let mut used = std::collections::HashSet::new();
    for t in &r.tables {
        let ws = wb.add_worksheet();
        let mut name = sheet_name(&t.title);
        if !used.insert(name.clone()) {
            name = sheet_name(t.name);
            used.insert(name.clone());
        }
        ws.set_name(&name).map_err(err)?;
        let mut widths: Vec<f64> = t.header.iter().map(|h| width(h)).collect();
        for (c, h) in t.header.iter().enumerate() {
            ws.write_with_format(0, c as u16, *h, &bold).map_err(err)?;
        }
        for (i, row) in t.rows.iter().enumerate() {
            let rr = (i + 1) as u32;
            for (c, cell) in row.iter().enumerate() {
                let cc = c as u16;
                match cell {
                    Cell::Text(s) => ws.write_string(rr, cc, s).map(|_| ()),
                    Cell::Int(n) => ws.write_number(rr, cc, *n as f64).map(|_| ()),
                    Cell::Num(v, d) => {
                        let f = Format::new().set_num_format(if *d == 0 {
                            "0".to_string()
                        } else {
                            format!("0.{}", "0".repeat(*d))
                        });
                        // the same rounding as the CSV
                        let v: f64 = cell.text().parse().unwrap_or(*v);
                        ws.write_number_with_format(rr, cc, v, &f).map(|_| ())
                    }
                }
                .map_err(err)?;
                if let Some(w) = widths.get_mut(c) {
                    *w = w.max(width(&cell.text()));
                }
            }
        }
        for (c, w) in widths.iter().enumerate() {
            ws.set_column_width(c as u16, (w + 2.0).clamp(6.0, 60.0))
                .map_err(err)?;
        }
        ws.set_freeze_panes(1, 0).map_err(err)?;
    }
    wb.save_to_buffer().map_err(err)
}
