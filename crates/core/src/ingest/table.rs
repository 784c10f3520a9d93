//! Read a tabular file (CSV in UTF-8 / UTF-8 BOM / GBK / GB18030 / UTF-16, XLSX, or
//! GeoJSON points) into rows of text cells with their line numbers.

use super::IngestError;
use std::path::Path;

/// One data row.
#[derive(Debug, Clone)]
pub struct Row {
    /// CSV line (header = 1), sheet row number, or GeoJSON feature index (0-based).
    pub line: usize,
    /// Where the row's cells sit in the table's `spans` (`Table::cell` reads them).
    first: u32,
    len: u32,
    /// A GeoJSON feature's point, as written in the file.
    pub point: Option<(f64, f64)>,
    /// Why a GeoJSON feature's geometry is unusable, if it is.
    pub geometry_problem: Option<String>,
}

/// A table as read from a file.
#[derive(Debug, Clone)]
pub struct Table {
    /// The path as given, for messages.
    pub file: String,
    pub headers: Vec<String>,
    /// The header's line (CSV line or sheet row; 0 for GeoJSON).
    pub header_line: usize,
    /// The text of the title or note rows above the header (their non-blank cells).
    pub notes: Vec<String>,
    pub rows: Vec<Row>,
    /// What was read: "csv utf-8", "csv gb18030", "xlsx sheet 企业", "geojson".
    pub format: String,
    /// Whether `line` means a feature index (GeoJSON) rather than a line.
    pub is_features: bool,
    /// A database table's primary key column: rows are named by it, not by a line.
    pub key_col: Option<usize>,
    /// Every data cell's text.
    cells: Cells,
}

impl Table {
    /// A row's cell (empty past the row's end).
    pub fn cell<'a>(&'a self, row: &'a Row, col: usize) -> &'a str {
        if col >= row.len as usize {
            return "";
        }
        let (a, b) = self.cells.spans[row.first as usize + col];
        &self.cells.text[a as usize..b as usize]
    }

    /// Find the header below title or note rows: offices put 「XX区安全生产风险企业名录」
    /// or a date line above it. With `header_row` (the line or sheet row a user
    /// names), that row; otherwise, when the first non-blank row names fewer than two of
    /// `defs`' fields, the first of the next 30 rows that names at least two (and more
    /// than it). The rows above the header are dropped; every row keeps its own line.
    pub fn find_header(
        &mut self,
        defs: &[super::fields::FieldDef],
        columns: &std::collections::BTreeMap<String, String>,
        header_row: Option<usize>,
    ) -> Result<(), IngestError> {
        if self.is_features {
            return Ok(());
        }
        let names = |cells: &[String]| super::fields::columns_named(cells, defs, columns).len();
        let row_cells = |t: &Table, r: &Row| -> Vec<String> {
            (0..r.len as usize)
                .map(|c| t.cell(r, c).to_string())
                .collect()
        };
        let k =
            match header_row {
                Some(n) if n == self.header_line => return Ok(()),
                Some(n) => self.rows.iter().position(|r| r.line == n).ok_or_else(|| {
                    IngestError::Column {
                        file: self.file.clone(),
                        message: {
                            let first = self.header_line;
                            crate::tr!(
                                "header_row = {n}：没有这一非空行（第一个非空行是第 {first} 行）",
                                "header_row = {n}: no such non-blank row (the first is row {first})"
                            )
                        },
                    }
                })?,
                None => {
                    let now = names(&self.headers);
                    if now >= 2 {
                        return Ok(());
                    }
                    let found = self.rows.iter().take(30).position(|r| {
                        let n = names(&row_cells(self, r));
                        n >= 2 && n > now
                    });
                    match found {
                        Some(k) => k,
                        None => return Ok(()),
                    }
                }
            };
        let mut notes = vec![self
            .headers
            .iter()
            .filter(|c| !c.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join(" ")];
        for r in &self.rows[..k] {
            notes.push(
                row_cells(self, r)
                    .into_iter()
                    .filter(|c| !c.is_empty())
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
        self.notes = notes;
        self.headers = row_cells(self, &self.rows[k]);
        self.header_line = self.rows[k].line;
        self.rows.drain(..=k);
        Ok(())
    }
}

/// The cells of a whole table in one string, each a span of it: a register of 1M rows ×
/// 14 columns is 2 allocations, not 15M (which cost more than parsing them, and most of
/// the memory a loaded register took).
#[derive(Debug, Clone, Default)]
struct Cells {
    text: String,
    spans: Vec<(u32, u32)>,
}

impl Cells {
    /// Append a row's cells (trimmed); the row's (first, len), or None when every cell
    /// is blank (nothing is kept then).
    fn push<'s>(
        &mut self,
        cells: impl IntoIterator<Item = &'s str>,
        file: &str,
    ) -> Result<Option<(u32, u32)>, IngestError> {
        let (text0, first) = (self.text.len(), self.spans.len());
        for c in cells {
            let a = self.text.len();
            self.text.push_str(c.trim());
            self.spans.push((a as u32, self.text.len() as u32));
        }
        if self.text.len() > u32::MAX as usize || self.spans.len() > u32::MAX as usize {
            return Err(IngestError::Parse {
                file: file.to_string(),
                message: crate::tr!(
                    "单元格文本超过 4 GB；请拆分文件",
                    "more than 4 GB of cell text; split the file"
                ),
            });
        }
        if self.text.len() == text0 {
            self.spans.truncate(first);
            return Ok(None);
        }
        Ok(Some((first as u32, (self.spans.len() - first) as u32)))
    }
}

/// Rows as the readers find them: the first non-blank one is the header; blank rows
/// are skipped.
pub(super) struct Builder {
    file: String,
    headers: Option<Vec<String>>,
    header_line: usize,
    rows: Vec<Row>,
    cells: Cells,
}

impl Builder {
    pub(super) fn new(file: &str) -> Builder {
        Builder {
            file: file.to_string(),
            headers: None,
            header_line: 0,
            rows: Vec::new(),
            cells: Cells::default(),
        }
    }

    pub(super) fn row<'s>(
        &mut self,
        line: usize,
        cells: impl IntoIterator<Item = &'s str>,
        point: Option<(f64, f64)>,
        geometry_problem: Option<String>,
    ) -> Result<(), IngestError> {
        let Some((first, len)) = self.cells.push(cells, &self.file)? else {
            return Ok(());
        };
        if self.headers.is_none() {
            let h = (0..len as usize)
                .map(|i| {
                    let (a, b) = self.cells.spans[first as usize + i];
                    self.cells.text[a as usize..b as usize].to_string()
                })
                .collect();
            self.headers = Some(h);
            self.header_line = line;
            self.cells
                .text
                .truncate(self.cells.spans[first as usize].0 as usize);
            self.cells.spans.truncate(first as usize);
            return Ok(());
        }
        self.rows.push(Row {
            line,
            first,
            len,
            point,
            geometry_problem,
        });
        Ok(())
    }

    pub(super) fn table(self, format: String, is_features: bool) -> Table {
        Table {
            file: self.file,
            headers: self.headers.unwrap_or_default(),
            header_line: self.header_line,
            notes: Vec::new(),
            rows: self.rows,
            format,
            is_features,
            key_col: None,
            cells: self.cells,
        }
    }
}

/// The sheets of a workbook in order (empty for a file that is not one, or cannot be
/// opened: reading it says why).
pub fn sheet_names(path: &Path) -> Vec<String> {
    use calamine::Reader;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_lowercase();
    if !matches!(ext.as_str(), "xlsx" | "xlsm" | "xls" | "xlsb" | "ods") {
        return Vec::new();
    }
    std::panic::catch_unwind(|| {
        calamine::open_workbook_auto(path)
            .map(|wb| wb.sheet_names().to_vec())
            .unwrap_or_default()
    })
    .unwrap_or_default()
}

/// Read a table; the format comes from the extension (.csv/.txt/.tsv, .xlsx/.xls/.xlsm/.ods,
/// .geojson/.json).
pub fn read_table(path: &Path, sheet: Option<&str>, what: &str) -> Result<Table, IngestError> {
    read_table_with(path, sheet, what, false)
}

/// [`read_table`] for a table of lines or shapes: a GeoJSON feature's geometry, whatever
/// its type, becomes the text of a [`GEOMETRY`] column (a CSV or sheet names its own
/// WKT column).
pub fn read_shape_table(
    path: &Path,
    sheet: Option<&str>,
    what: &str,
) -> Result<Table, IngestError> {
    read_table_with(path, sheet, what, true)
}

/// Virtual column a GeoJSON reader of shapes adds: the feature's geometry as GeoJSON text.
pub const GEOMETRY: &str = "\u{1}geometry";

fn read_table_with(
    path: &Path,
    sheet: Option<&str>,
    what: &str,
    geometry_cell: bool,
) -> Result<Table, IngestError> {
    let file = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| IngestError::Missing {
        file: file.clone(),
        what: what.to_string(),
        message: crate::i18n::io_error(&e),
    })?;
    if meta.len() == 0 {
        return Err(IngestError::Empty {
            file,
            what: what.to_string(),
        });
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_lowercase();
    let workbook = matches!(ext.as_str(), "xlsx" | "xlsm" | "xls" | "xlsb" | "ods");
    let limit = if workbook {
        super::MAX_WORKBOOK_BYTES
    } else {
        super::MAX_INPUT_BYTES
    };
    super::check_size(&file, what, meta.len(), limit)?;
    let table = match ext.as_str() {
        "xlsx" | "xlsm" | "xls" | "xlsb" | "ods" => read_xlsx(path, &file, sheet)?,
        "geojson" | "json" => read_geojson(path, &file, geometry_cell)?,
        _ => read_csv(path, &file)?,
    };
    if table.headers.iter().all(|h| h.trim().is_empty()) || table.rows.is_empty() {
        return Err(IngestError::Empty {
            file,
            what: what.to_string(),
        });
    }
    Ok(table)
}

/// Decode bytes as UTF-8 (BOM or not), UTF-16 (with BOM) or GB18030 (a superset of GBK,
/// which Excel writes on Chinese Windows). Returns the text and the encoding's name.
pub fn decode_text(bytes: &[u8]) -> Option<(String, &'static str)> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return std::str::from_utf8(rest)
            .ok()
            .map(|s| (s.to_string(), "utf-8 bom"));
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        let enc = if bytes[0] == 0xFF {
            encoding_rs::UTF_16LE
        } else {
            encoding_rs::UTF_16BE
        };
        let (s, had_errors) = enc.decode_with_bom_removal(bytes);
        return (!had_errors).then(|| (s.into_owned(), "utf-16"));
    }
    if let Some(enc) = utf16_without_bom(bytes) {
        let (s, had_errors) = enc.decode_without_bom_handling(bytes);
        return (!had_errors).then(|| (s.into_owned(), "utf-16"));
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Some((s.to_string(), "utf-8"));
    }
    let (s, _, had_errors) = encoding_rs::GB18030.decode(bytes);
    (!had_errors).then(|| (s.into_owned(), "gb18030"))
}

/// UTF-16 saved without a byte-order mark (some exporters do): text files in UTF-8 or
/// GBK hold no NUL bytes, while UTF-16 puts one beside every ASCII character — the
/// delimiters, digits and line breaks a table is full of. The side the NULs fall on
/// (high byte first or second) gives the byte order.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let head = &bytes[..bytes.len().min(4096) & !1];
    let (mut even, mut odd) = (0usize, 0usize);
    for pair in head.chunks_exact(2) {
        even += (pair[0] == 0) as usize;
        odd += (pair[1] == 0) as usize;
    }
    let pairs = head.len() / 2;
    if pairs == 0 || (even.max(odd)) * 4 < pairs {
        return None;
    }
    if odd > even * 4 {
        Some(encoding_rs::UTF_16LE)
    } else if even > odd * 4 {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

fn sniff_delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    let mut best = (b',', 0usize);
    for d in [b',', b'\t', b';', b'|'] {
        let n = first.bytes().filter(|&b| b == d).count();
        if n > best.1 {
            best = (d, n);
        }
    }
    best.0
}

/// The file line a record starts on (header = 1), counted by hand: csv's own
/// `Position::line` counts only `\n` and is taken before the terminator of the previous
/// record is consumed, so it is one short for every CRLF row, for the first row after a
/// blank line, and stuck at 1 in a CR-only file. Here a line ends at `\r\n`, `\n` or a
/// lone `\r` (what Excel and old Mac tools write), and a record's start skips the blank
/// lines and the leftover terminator before it. Records come in file order, so the count
/// runs once over the text.
struct LineCounter<'t> {
    text: &'t [u8],
    pos: usize,
    line: usize,
}

impl<'t> LineCounter<'t> {
    fn new(text: &'t [u8]) -> Self {
        LineCounter {
            text,
            pos: 0,
            line: 1,
        }
    }

    /// The line of the first non-terminator byte at or after `start` (never before the
    /// last position asked).
    fn line_at(&mut self, start: usize) -> usize {
        let t = self.text;
        let mut i = self.pos;
        let end = start.min(t.len());
        let step = |i: &mut usize, line: &mut usize| {
            if t[*i] == b'\r' && t.get(*i + 1) == Some(&b'\n') {
                *i += 1;
            }
            if matches!(t[*i], b'\r' | b'\n') {
                *line += 1;
            }
            *i += 1;
        };
        while i < end {
            step(&mut i, &mut self.line);
        }
        while i < t.len() && matches!(t[i], b'\r' | b'\n') {
            step(&mut i, &mut self.line);
        }
        self.pos = i;
        self.line
    }
}

fn read_csv(path: &Path, file: &str) -> Result<Table, IngestError> {
    let bytes = std::fs::read(path).map_err(|e| IngestError::Io {
        file: file.to_string(),
        message: crate::i18n::io_error(&e),
    })?;
    let (text, enc) = decode_text(&bytes).ok_or_else(|| IngestError::Encoding {
        file: file.to_string(),
    })?;
    let delim = sniff_delimiter(&text);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delim)
        .from_reader(text.as_bytes());
    let mut b = Builder::new(file);
    let mut rec = csv::StringRecord::new();
    let mut lines = LineCounter::new(text.as_bytes());
    loop {
        let more = rdr.read_record(&mut rec).map_err(|e| IngestError::Parse {
            file: file.to_string(),
            message: {
                let at = lines.line_at(e.position().map_or(0, |p| p.byte() as usize));
                crate::tr!("第 {at} 行附近无法解析：{e}", "{e} (near line {at})")
            },
        })?;
        if !more {
            break;
        }
        let start = rec.position().map_or(0, |p| p.byte() as usize);
        b.row(lines.line_at(start), rec.iter(), None, None)?;
    }
    Ok(b.table(format!("csv {enc}"), false))
}

fn xlsx_cell(d: &calamine::Data) -> String {
    use calamine::Data;
    match d {
        Data::Empty => String::new(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Error(e) => format!("#ERR {e:?}"),
        other => other.to_string().trim().to_string(),
    }
}

/// Columns a workbook row may use: registers have tens; a value far to the right (a
/// stray cell at column XFD) would otherwise make every row 16,384 cells wide.
const MAX_XLSX_COLUMNS: u32 = 1024;

/// Read a workbook's sheet. An XLSX is read cell by cell (calamine's cells reader), so
/// a stray value at a far cell costs one cell, not a dense range of millions (calamine's
/// `worksheet_range` allocates rows × columns and aborts the process when it cannot);
/// its shared-string count is checked first for the same reason. The other workbook
/// formats go through calamine's range. A panic inside calamine on a corrupt file is an
/// error naming the file, not a crash.
fn read_xlsx(path: &Path, file: &str, sheet: Option<&str>) -> Result<Table, IngestError> {
    let err = |message: String| IngestError::Parse {
        file: file.to_string(),
        message,
    };
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_lowercase();
    let streamed = matches!(ext.as_str(), "xlsx" | "xlsm");
    if streamed {
        check_shared_strings(path).map_err(err)?;
    }
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if streamed {
            read_xlsx_cells(path, file, sheet)
        } else {
            read_workbook_range(path, file, sheet)
        }
    }));
    read.unwrap_or_else(|p| {
        let why = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Err(err(crate::tr!(
            "工作簿已损坏（{why}）；请用 Excel 或 WPS 打开后重新保存",
            "the workbook is corrupt ({why}); open it in Excel or WPS and save it again"
        )))
    })
}

/// The sheet to read: the named one (which must exist), else the first.
fn pick_sheet(names: &[String], sheet: Option<&str>) -> Result<String, String> {
    match sheet {
        Some(s) if names.iter().any(|n| n == s) => Ok(s.to_string()),
        Some(s) => Err(crate::tr!(
            "没有名为 `{s}` 的工作表；工作簿中有 {names:?}",
            "no sheet named `{s}`; the workbook has {names:?}"
        )),
        None => names
            .first()
            .cloned()
            .ok_or_else(|| crate::tr!("工作簿中没有工作表", "the workbook has no sheet")),
    }
}

/// An XLSX declares how many distinct strings it holds, and calamine reserves that many
/// before reading one: a count larger than the string table could hold (every string
/// takes at least `<si/>`, 5 bytes) is a corrupt or hostile file.
fn check_shared_strings(path: &Path) -> Result<(), String> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let Ok(mut zip) = zip::ZipArchive::new(f) else {
        return Ok(()); // not a zip: calamine says what is wrong
    };
    let Ok(entry) = zip.by_name("xl/sharedStrings.xml") else {
        return Ok(());
    };
    let size = entry.size();
    let mut head = Vec::with_capacity(4096);
    entry
        .take(4096)
        .read_to_end(&mut head)
        .map_err(|e| e.to_string())?;
    let head = String::from_utf8_lossy(&head);
    let Some(at) = head.find("uniqueCount=\"") else {
        return Ok(());
    };
    let digits: String = head[at + 13..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let count: u64 = digits.parse().unwrap_or(u64::MAX);
    let most = (size / 5).min(50_000_000);
    if count > most {
        return Err(crate::tr!(
            "工作簿的字符串表声明了 {digits} 个字符串，而文件只有 {size} 字节（最多容纳 {most} 个）；文件已损坏：请用 Excel 或 WPS 打开后重新保存",
            "the workbook's string table declares {digits} strings in {size} bytes (at most {most} fit); the file is corrupt: open it in Excel or WPS and save it again"
        ));
    }
    Ok(())
}

fn read_xlsx_cells(path: &Path, file: &str, sheet: Option<&str>) -> Result<Table, IngestError> {
    use calamine::Reader;
    let err = |message: String| IngestError::Parse {
        file: file.to_string(),
        message,
    };
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook(path).map_err(|e: calamine::XlsxError| err(e.to_string()))?;
    let name = pick_sheet(&wb.sheet_names(), sheet).map_err(err)?;
    let mut cells = wb
        .worksheet_cells_reader(&name)
        .map_err(|e| err(e.to_string()))?;
    let mut b = Builder::new(file);
    // the row being gathered: its index and its cells' text by column
    let mut row: Option<u32> = None;
    let mut texts: Vec<String> = Vec::new();
    let flush = |b: &mut Builder, r: u32, texts: &mut Vec<String>| {
        let res = b.row(r as usize + 1, texts.iter().map(String::as_str), None, None);
        texts.clear();
        res
    };
    while let Some(c) = cells.next_cell().map_err(|e| err(e.to_string()))? {
        let text = xlsx_cell(&calamine::Data::from(c.get_value().clone()));
        if text.is_empty() {
            continue;
        }
        let (r, col) = c.get_position();
        if col >= MAX_XLSX_COLUMNS {
            let (c1, r1) = (col + 1, r + 1);
            return Err(err(crate::tr!(
                "工作表 {name}：第 {r1} 行第 {c1} 列有值，riskmap 只读取前 {MAX_XLSX_COLUMNS} 列；请删除其后的内容",
                "sheet {name}: a value in column {c1} of row {r1} — riskmap reads the first {MAX_XLSX_COLUMNS} columns; delete what lies beyond them"
            )));
        }
        match row {
            Some(cur) if r < cur => {
                let (r1, c1) = (r + 1, cur + 1);
                return Err(err(crate::tr!(
                    "工作表 {name}：单元格未按行顺序存储（第 {r1} 行在第 {c1} 行之后）；请用 Excel 或 WPS 重新保存",
                    "sheet {name}: the cells are not stored row by row (row {r1} after row {c1}); save the workbook again from Excel or WPS"
                )));
            }
            Some(cur) if r > cur => flush(&mut b, cur, &mut texts)?,
            _ => {}
        }
        row = Some(r);
        if texts.len() <= col as usize {
            texts.resize(col as usize + 1, String::new());
        }
        texts[col as usize] = text;
    }
    if let Some(cur) = row {
        flush(&mut b, cur, &mut texts)?;
    }
    Ok(b.table(format!("xlsx sheet {name}"), false))
}

fn read_workbook_range(path: &Path, file: &str, sheet: Option<&str>) -> Result<Table, IngestError> {
    use calamine::Reader;
    let err = |message: String| IngestError::Parse {
        file: file.to_string(),
        message,
    };
    let mut wb = calamine::open_workbook_auto(path).map_err(|e| err(e.to_string()))?;
    let name = pick_sheet(&wb.sheet_names(), sheet).map_err(err)?;
    let range = wb.worksheet_range(&name).map_err(|e| err(e.to_string()))?;
    let first_row = range.start().map(|(r, _)| r as usize).unwrap_or(0);
    let first_col = range.start().map(|(_, c)| c as usize).unwrap_or(0);
    let mut b = Builder::new(file);
    for (i, r) in range.rows().enumerate() {
        let cells: Vec<String> = r.iter().map(xlsx_cell).collect();
        let lead = std::iter::repeat_n("", first_col);
        b.row(
            first_row + i + 1,
            lead.chain(cells.iter().map(String::as_str)),
            None,
            None,
        )?;
    }
    Ok(b.table(format!("xlsx sheet {name}"), false))
}

fn json_cell(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.trim().to_string(),
        other => other.to_string(),
    }
}

fn read_geojson(path: &Path, file: &str, geometry_cell: bool) -> Result<Table, IngestError> {
    let err = |message: String| IngestError::Parse {
        file: file.to_string(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| IngestError::Io {
        file: file.to_string(),
        message: crate::i18n::io_error(&e),
    })?;
    let (text, _) = decode_text(&bytes).ok_or_else(|| IngestError::Encoding {
        file: file.to_string(),
    })?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| err(crate::tr!("不是有效的 JSON：{e}", "not JSON: {e}")))?;
    let feats = v
        .get("features")
        .and_then(|f| f.as_array())
        .ok_or_else(|| {
            err(crate::tr!(
                "应为带 `features` 的 GeoJSON FeatureCollection",
                "expected a GeoJSON FeatureCollection with `features`"
            ))
        })?;
    let mut headers: Vec<String> = Vec::new();
    for f in feats {
        if let Some(p) = f.get("properties").and_then(|p| p.as_object()) {
            for k in p.keys() {
                if !headers.iter().any(|h| h == k) {
                    headers.push(k.clone());
                }
            }
        }
    }
    let n_props = headers.len();
    headers.push(super::fields::FEATURE_ID.to_string());
    if geometry_cell {
        headers.push(GEOMETRY.to_string());
    }
    let mut b = Builder::new(file);
    // the properties as named, then the feature id (never blank: every feature is a row)
    b.headers = Some(headers.clone());
    for (i, f) in feats.iter().enumerate() {
        let props = f.get("properties").and_then(|p| p.as_object());
        let mut cells: Vec<String> = headers[..n_props]
            .iter()
            .map(|h| {
                props
                    .and_then(|p| p.get(h))
                    .map(json_cell)
                    .unwrap_or_default()
            })
            .collect();
        // the feature's own id, else its position: a register of points may have no id column
        let fid = f.get("id").map(json_cell).filter(|s| !s.is_empty());
        cells.push(fid.unwrap_or_else(|| format!("F{}", i + 1)));
        if geometry_cell {
            // the shape's reader parses it (and says what is wrong with it, by row)
            let g = f.get("geometry").filter(|g| !g.is_null());
            cells.push(g.map(|g| g.to_string()).unwrap_or_default());
            b.row(i, cells.iter().map(String::as_str), None, None)?;
            continue;
        }
        let (point, geometry_problem) = match f.get("geometry") {
            None | Some(serde_json::Value::Null) => (
                None,
                Some(crate::tr!("要素没有几何", "feature has no geometry")),
            ),
            Some(g) => match (g.get("type").and_then(|t| t.as_str()), g.get("coordinates")) {
                (Some("Point"), Some(c)) => match (
                    c.get(0).and_then(|x| x.as_f64()),
                    c.get(1).and_then(|x| x.as_f64()),
                ) {
                    (Some(x), Some(y)) => (Some((x, y)), None),
                    _ => (
                        None,
                        Some(crate::tr!(
                            "点坐标 {c} 不是两个数字",
                            "point coordinates {c} are not two numbers"
                        )),
                    ),
                },
                (t, _) => (None, {
                    let t = t.unwrap_or("?");
                    Some(crate::tr!(
                        "几何类型 {t} 不是 Point",
                        "geometry type {t} is not a Point"
                    ))
                }),
            },
        };
        b.row(i, cells.iter().map(String::as_str), point, geometry_problem)?;
    }
    Ok(b.table("geojson".into(), true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_gbk() {
        let (bytes, _, _) = encoding_rs::GBK.encode("企业名称,经度\n济南炼油厂,117.1\n");
        let (s, enc) = decode_text(&bytes).unwrap();
        assert!(s.starts_with("企业名称"));
        assert_eq!(enc, "gb18030");
        let (s, enc) = decode_text("\u{feff}名称".as_bytes()).unwrap();
        assert_eq!((s.as_str(), enc), ("名称", "utf-8 bom"));
    }

    /// Every cell as the CSV has it (trimmed, quoted commas and line breaks kept), short
    /// rows empty past their end, blank rows skipped without shifting the lines, the
    /// header the first non-blank row.
    #[test]
    fn csv_cells_and_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        let text = ",,\n 企业编号 ,名称,经度\nA1, 甲 ,117.1\n\n , ,\nA2,\"乙,\n二\",\nA3\n";
        std::fs::write(&p, text).unwrap();
        let t = read_table(&p, None, "t").unwrap();
        assert_eq!(t.headers, ["企业编号", "名称", "经度"]);
        let rows: Vec<(usize, Vec<&str>)> = t
            .rows
            .iter()
            .map(|r| (r.line, (0..4).map(|c| t.cell(r, c)).collect()))
            .collect();
        assert_eq!(
            rows,
            [
                (3, vec!["A1", "甲", "117.1", ""]),
                (6, vec!["A2", "乙,\n二", "", ""]),
                (8, vec!["A3", "", "", ""]),
            ]
        );
    }

    /// A title and a note above the header: the header is the first row naming two
    /// fields, the rows keep their own lines; a normal header is left alone.
    #[test]
    fn header_below_title_rows() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        let text = "历城区风险企业名录,,\r\n填报日期：2026-11-01,,\r\n\r\n企业编号,企业名称,经度\r\nA1,甲,117.1\r\n";
        std::fs::write(&p, text).unwrap();
        let mut t = read_table(&p, None, "t").unwrap();
        assert_eq!(t.header_line, 1);
        t.find_header(
            super::super::fields::ENTERPRISE_FIELDS,
            &Default::default(),
            None,
        )
        .unwrap();
        assert_eq!(t.headers, ["企业编号", "企业名称", "经度"]);
        assert_eq!(t.header_line, 4);
        assert_eq!(t.rows.len(), 1);
        assert_eq!((t.rows[0].line, t.cell(&t.rows[0], 1)), (5, "甲"));
        // already a header: unchanged
        let before = t.headers.clone();
        t.find_header(
            super::super::fields::ENTERPRISE_FIELDS,
            &Default::default(),
            None,
        )
        .unwrap();
        assert_eq!((t.headers.clone(), t.rows.len()), (before, 1));
    }

    #[test]
    fn sniffs_tabs() {
        assert_eq!(sniff_delimiter("a\tb\tc\n1\t2\t3"), b'\t');
        assert_eq!(sniff_delimiter("a,b;c"), b',');
    }
}
