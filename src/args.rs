//! The command line's arguments (clap): subcommands, their flags and help texts.

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use riskmap::config::Config;
use riskmap::crs::Crs;
use riskmap_core::i18n::Lang;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "riskmap",
    version,
    about = "Draw a city's red / orange / yellow / blue work-safety risk map (四色安全风险空间分布图).",
    long_about = "riskmap reads a register of supervised enterprises, their risk assessments and hidden dangers, \
grades every enterprise red / orange / yellow / blue, and writes the four-color map as GeoJSON and tables.\n\n\
Without --config it reads ./riskmap.toml when present (unless --enterprises names a different register)."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) cmd: Cmd,
    /// Language of messages and help: zh (default) or en; also RISKMAP_LANG or an en_* locale.
    #[arg(long, global = true, value_name = "zh|en")]
    pub(crate) lang: Option<String>,
}

/// Parse the command line with help and errors in `lang`; `Err` is the exit code after
/// help, the version or a usage error was printed.
pub(crate) fn parse(lang: Lang) -> Result<Cli, std::process::ExitCode> {
    use clap::{CommandFactory, FromArgMatches};
    let mut cmd = Cli::command();
    if lang == Lang::Zh {
        cmd = localize(cmd, "");
    }
    let res = cmd
        .clone()
        .try_get_matches_from(std::env::args_os())
        .and_then(|m| Cli::from_arg_matches(&m));
    match res {
        Ok(c) => Ok(c),
        Err(e) if lang == Lang::En => {
            let _ = e.print();
            Err(std::process::ExitCode::from(if e.use_stderr() {
                2
            } else {
                0
            }))
        }
        Err(e) => {
            use clap::error::ErrorKind as K;
            if !e.use_stderr() {
                let _ = e.print();
                return Err(std::process::ExitCode::SUCCESS);
            }
            if matches!(
                e.kind(),
                K::DisplayHelpOnMissingArgumentOrSubcommand | K::MissingSubcommand
            ) {
                let _ = cmd.print_help();
                return Err(std::process::ExitCode::from(2));
            }
            eprintln!("riskmap：{}", zh_error(&e));
            eprintln!("更多信息请运行 riskmap --help（或在子命令后加 --help）");
            Err(std::process::ExitCode::from(2))
        }
    }
}

/// A clap usage error in Chinese, from its kind and context (the argument, the value,
/// the accepted values, a suggestion).
fn zh_error(e: &clap::Error) -> String {
    use clap::error::{ContextKind as C, ContextValue, ErrorKind as K};
    let get = |k: C| -> String {
        match e.get(k) {
            Some(ContextValue::String(s)) => s.clone(),
            Some(ContextValue::Strings(v)) => v.join("、"),
            Some(ContextValue::StyledStr(s)) => s.to_string(),
            Some(ContextValue::StyledStrs(v)) => v
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join("、"),
            Some(ContextValue::Number(n)) => n.to_string(),
            _ => String::new(),
        }
    };
    let (arg, val) = (get(C::InvalidArg), get(C::InvalidValue));
    let mut s = match e.kind() {
        K::UnknownArgument => format!("未知参数 {arg}"),
        K::InvalidSubcommand => format!("未知子命令 {}", get(C::InvalidSubcommand)),
        K::InvalidValue => {
            let valid = get(C::ValidValue);
            if valid.is_empty() {
                format!("参数 {arg} 的值 '{val}' 无效")
            } else {
                format!("参数 {arg} 的值 '{val}' 无效；可用：{valid}")
            }
        }
        K::ValueValidation => {
            let why = std::error::Error::source(e)
                .map(|s| s.to_string())
                .unwrap_or_default();
            format!("参数 {arg} 的值 '{val}' 无效：{why}")
        }
        K::MissingRequiredArgument => format!("缺少必需的参数：{arg}"),
        K::ArgumentConflict => format!("参数 {arg} 不能与 {} 同时使用", get(C::PriorArg)),
        K::TooManyValues => format!("参数 {arg} 给出的值太多"),
        K::TooFewValues | K::WrongNumberOfValues => format!("参数 {arg} 的值个数不对"),
        K::NoEquals => format!("参数 {arg} 须写作 {arg}=值"),
        K::InvalidUtf8 => "参数中有无效的 UTF-8 文本".to_string(),
        _ => "命令行参数有误".to_string(),
    };
    let sug = [
        get(C::SuggestedArg),
        get(C::SuggestedSubcommand),
        get(C::SuggestedValue),
    ]
    .into_iter()
    .filter(|x| !x.is_empty())
    .collect::<Vec<_>>()
    .join("、");
    if !sug.is_empty() {
        s.push_str(&format!("（是否要用 {sug}？）"));
    }
    s
}

const ZH_TEMPLATE: &str =
    "{before-help}{about-with-newline}\n用法：{usage}\n\n{all-args}{after-help}";

/// The command tree with its help in Chinese: about texts, every argument's help and the
/// headings, from [`zh_help`]. `path` is the subcommand's name ("" for the top).
fn localize(mut cmd: clap::Command, path: &str) -> clap::Command {
    cmd = cmd
        .help_template(ZH_TEMPLATE)
        .subcommand_help_heading("子命令")
        .subcommand_value_name("子命令")
        .disable_help_subcommand(true)
        .disable_help_flag(true)
        .arg(
            clap::Arg::new("help")
                .short('h')
                .long("help")
                .action(clap::ArgAction::Help)
                .help("显示帮助")
                .help_heading("选项"),
        );
    if path.is_empty() {
        cmd = cmd.disable_version_flag(true).arg(
            clap::Arg::new("version")
                .short('V')
                .long("version")
                .action(clap::ArgAction::Version)
                .help("显示版本")
                .help_heading("选项"),
        );
        if let Some(a) = zh_about("") {
            cmd = cmd.about(a.0).long_about(a.1);
        }
    }
    let ids: Vec<String> = cmd
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .filter(|id| id != "help" && id != "version")
        .collect();
    for id in ids {
        let zh = zh_help(path, &id);
        cmd = cmd.mut_arg(id.as_str(), |a| {
            let heading = if a.is_positional() {
                "参数"
            } else {
                "选项"
            };
            let a = a.help_heading(heading);
            match zh {
                Some(h) => a.help(h).long_help(None::<&str>),
                None => a,
            }
        });
    }
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in subs {
        cmd = cmd.mut_subcommand(name.as_str(), |s| {
            let s = match zh_about(&name) {
                Some((short, long)) => s.about(short).long_about(long),
                None => s,
            };
            localize(s, &name)
        });
    }
    cmd
}

/// What each subcommand is for, in Chinese (short, long).
pub(crate) fn zh_about(name: &str) -> Option<(&'static str, Option<&'static str>)> {
    Some(match name {
        "" => (
            "绘制城市安全生产风险四色（红、橙、黄、蓝）空间分布图。",
            Some("riskmap 读取监管企业名录、风险点评估和隐患，按“就高”原则把每家企业定为重大（红）、较大（橙）、一般（黄）、低（蓝），输出四色分布图（GeoJSON、表格、瓦片、报告）。\n\n未给出 --config 时，读取当前目录的 riskmap.toml（除非用 --enterprises 指定了另一份名录）。"),
        ),
        "init" => ("检查名录（工作表、表头行、列、坐标系、旁边的区县边界），生成带注释的 riskmap.toml", None),
        "build" => ("评定全部企业，把地图文件、瓦片和报告写入输出目录", None),
        "validate" => ("检查输入，列出每一条被拒绝的行；不写任何文件", None),
        "query" => ("查询某点附近或某范围内的企业", None),
        "sample" => ("生成一份模拟的济南名录（企业、风险点、隐患、敏感目标）", None),
        "bench" => ("测量完整构建的耗时（各阶段用时、内存峰值），示例及更大的名录", None),
        "tiles" => ("只生成栅格瓦片金字塔（XYZ PNG、MBTiles、PMTiles、TileJSON）", None),
        "serve" => ("发布已生成的地图：瓦片、查询接口和离线网页地图（一图展示、一点即现）", None),
        "report" => ("只生成分析报告（report.html、report/*.csv、report.xlsx）", None),
        "rollback" => ("把输出目录切回上一代（上一次运行的输出）", None),
        "db" => ("数据库输入的辅助命令", None),
        "install-triggers" => ("在输入表上创建触发器：表一有改动就通知 riskmap serve --watch（LISTEN/NOTIFY），一个事务完成", None),
        "update" => ("增量更新：重新读取输入，与当前输出比较，只重绘变化所及的瓦片，写成新的一代并记录变化和预警", None),
        "publish" => ("把评定后的图层写入 PostGIS 表（enterprises、districts、grid、zones、exposure、rejects、runs），一个事务完成", None),
        _ => return None,
    })
}

/// Every argument's help in Chinese, by subcommand and argument id (an id means the
/// same in every subcommand unless the subcommand is named).
pub(crate) fn zh_help(cmd: &str, id: &str) -> Option<&'static str> {
    Some(match (cmd, id) {
        (_, "lang") => "消息和帮助的语言：zh（默认）或 en；也可用环境变量 RISKMAP_LANG 或 en_* 区域设置",
        ("init", "file") => "名录文件：CSV、XLSX 或 GeoJSON 点（企业名录）",
        ("init", "boundaries") => "区县边界（GeoJSON）；默认使用名录旁边找到的边界文件",
        ("init", "out") => "配置文件写到哪里",
        ("init", "force") => "覆盖已有的配置文件",
        (_, "config") => "配置文件（TOML）；默认为当前目录的 riskmap.toml（若存在）",
        (_, "enterprises") => "企业名录：CSV（UTF-8 或 GBK）、XLSX 或 GeoJSON 点",
        (_, "assessments") => "风险点评估（LEC / LS / MES / 直接判定）",
        (_, "hazards") => "隐患：企业编号、级别（一般/重大）、状态（未整改/整改中/已整改）",
        (_, "sites") => "敏感目标（学校、幼儿园、医院、养老院、居民区……），用于影响分析",
        (_, "boundaries") => "区县边界（GeoJSON Polygon / MultiPolygon）",
        (_, "boundaries_crs") => "区县边界文件的坐标系",
        (_, "out") if cmd == "sample" => "输出目录",
        (_, "out") => "输出目录（默认：配置文件旁的 output/）",
        (_, "style") => "样式文件（各等级颜色；默认 styles/default.toml 的取值）",
        ("bench", "db") => "改为测量数据库路径：把生成的名录（--sizes 中最大的）载入该 PostgreSQL/PostGIS 数据库（schema riskmap_bench），比较从数据库与从 CSV 文件 validate 的耗时（各为新进程），并测量 publish 全部图层",
        (_, "db") => "从 PostgreSQL/PostGIS 读取输入：postgresql://用户@主机:端口/数据库（密码取自 PGPASSWORD 或 ~/.pgpass）；默认读表 enterprises、assessments、hidden_dangers、sites、boundaries，配置可另指定",
        (_, "font") => "总览图中文字体文件（默认：系统中文字体，否则用自带字体）",
        ("query", "crs") => "查询点或范围的坐标系：wgs84（默认）；从高德取的点用 gcj02，百度用 bd09",
        (_, "crs") => "点文件坐标的坐标系：wgs84、cgcs2000、gcj02 或 bd09（每行的“坐标系”列优先）",
        (_, "input_crs") => "点文件坐标的坐标系（同 build 的 --crs）",
        (_, "strict") => "有任何行被拒绝即失败（退出码 1），不写任何文件",
        ("tiles", "crs_out") => "同时生成 GCJ-02 瓦片金字塔（用于高德、腾讯底图）",
        (_, "crs_out") => "同时输出该坐标系的副本，用于国内底图：gcj02（高德、腾讯）或 bd09（百度）；可重复",
        ("tiles", "quiet") => "不显示进度条",
        (_, "quiet") => "只输出错误（不显示进度条）",
        (_, "zoom") => "缩放级别范围 最小-最大（默认取 [tiles] zoom，8-16）",
        (_, "layers") => "要生成的图层：surface、grid、areas、points、composite（默认全部）",
        (_, "formats") => "瓦片输出格式：pmtiles、mbtiles、xyz（默认取 [tiles] formats：两种瓦片包）",
        (_, "near") => "距 经度,纬度 --radius 米以内的企业",
        (_, "radius") => "--near 的半径（米）",
        (_, "bbox") => "西,南,东,北 范围内的企业",
        (_, "nearest") => "距 --at 最近的 K 家企业",
        (_, "at") => "经度,纬度 处的情况：所在区县和最近的企业",
        (_, "json") => "输出 JSON 而不是表格",
        (_, "count") => "企业数量",
        (_, "seed") => "随机种子；相同的种子得到相同的字节",
        (_, "sizes") => "要测量的名录规模：sample（5000 家）和企业数",
        (_, "work") => "生成的名录和输出所用的工作目录",
        (_, "peer_dir") => "对照程序（numpy/scipy + GDAL）脚本所在目录",
        (_, "peer_points") => "对照程序的点数（其聚集生成器）；0 表示不运行对照",
        ("bench", "tiles") => "同时生成示例的瓦片金字塔（[tiles] 的缩放级别、全部图层），并与仅编码的上限比较",
        (_, "peer_tiles") => "在这些缩放级别范围内，把 surface 瓦片与对照程序的 gdal2tiles 流程比较（如 8-14,8-16）；默认不比较",
        ("bench", "update") => "改为测量实时地图：生成的名录（--sizes 中第一个数字规模）完整构建后，运行 serve --watch，测量从保存文件到新瓦片发布的时间（改 1 家、1000 家企业，以及内容未变的保存），并测量 riskmap update 命令",
        ("bench", "serve") => "改为压测 riskmap serve（先运行 riskmap build）：本机回环上的瓦片和 /api/at，每秒请求数和 p50/p99 延迟",
        (_, "connections") => "与 --serve 一起：并发的长连接数",
        (_, "child") | (_, "child_peer") => "内部使用",
        (_, "since") => "与以前的输出目录（其 history/ 或 enterprises.geojson）或某个历史快照文件比较，而不是 output/history/ 中最新的不同快照",
        (_, "pdf") => "同时用无界面 Chromium 把 report.html 打印为 report.pdf",
        (_, "to") => "发布到哪个 PostGIS 数据库（默认 [publish] db，否则为读取输入的 --db）",
        (_, "schema") => "图层表所在的 schema（默认 [publish] schema，即 riskmap）",
        (_, "addr") => "监听地址（默认 [serve] addr，127.0.0.1:8080）",
        (_, "watch") => "监视输入文件：保存后自动增量更新（同 riskmap update），地图、变化列表和 /api/events 随之更新",
        _ => return None,
    })
}

#[derive(Subcommand, Debug)]
pub(crate) enum Cmd {
    /// Look at a register (sheet, header row, columns, coordinate system, boundaries
    /// beside it) and write a commented riskmap.toml to adjust (生成配置文件).
    Init(InitArgs),
    /// Grade everything and write the map files into the output folder.
    Build(BuildArgs),
    /// Check the inputs and list every rejected row; writes nothing.
    Validate(ValidateArgs),
    /// Ask what is near a point or inside a box.
    Query(QueryArgs),
    /// Write a synthetic Jinan register (enterprises, assessments, hidden dangers, sites).
    Sample(SampleArgs),
    /// Measure a full build (time per stage, peak memory) on the sample and larger registers.
    Bench(BenchArgs),
    /// Render the raster tile pyramids (XYZ PNG, MBTiles, PMTiles, TileJSON) alone.
    Tiles(TilesArgs),
    /// Serve the built map: tiles, query API and the offline web viewer (一图展示、一点即现).
    Serve(ServeArgs),
    /// Write the analyst's report (report.html, report/*.csv, report.xlsx) alone.
    Report(ReportArgs),
    /// Switch the output folder back to the previous generation (the run before).
    Rollback(RollbackArgs),
    /// Helpers for database inputs.
    Db(DbArgs),
    /// Re-read the inputs and, when they changed, write a new generation drawing only the
    /// tiles the changes touch; record what changed and raise the alerts.
    Update(UpdateArgs),
    /// Write the graded layers to PostGIS tables (enterprises, districts, grid, zones,
    /// exposure, rejects, runs) in one transaction.
    Publish(PublishArgs),
}

#[derive(Args, Debug)]
pub(crate) struct PublishArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    #[command(flatten)]
    pub(crate) crs: PointCrs,
    /// The PostGIS database to publish to (default [publish] db, else the --db the
    /// inputs come from).
    #[arg(long = "to", value_name = "URL")]
    pub(crate) to: Option<String>,
    /// Schema of the layer tables (default [publish] schema, "riskmap").
    #[arg(long, value_name = "NAME")]
    pub(crate) schema: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct InitArgs {
    /// The register: CSV, XLSX or GeoJSON points (企业名录).
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
    /// District boundaries (GeoJSON); default: one found beside the register.
    #[arg(long, value_name = "FILE")]
    pub(crate) boundaries: Option<PathBuf>,
    /// Where to write the config.
    #[arg(long, value_name = "FILE", default_value = "riskmap.toml")]
    pub(crate) out: PathBuf,
    /// Replace an existing config.
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Args, Debug)]
pub(crate) struct RollbackArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
}

#[derive(Args, Debug)]
pub(crate) struct ReportArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    #[command(flatten)]
    pub(crate) crs: PointCrs,
    /// Compare with a previous output folder (its history/ or enterprises.geojson) or a
    /// history snapshot file, instead of the newest different snapshot in output/history/.
    #[arg(long, value_name = "DIR|FILE")]
    pub(crate) since: Option<PathBuf>,
    /// Also print report.html to report.pdf with headless Chromium.
    #[arg(long)]
    pub(crate) pdf: bool,
}

#[derive(Args, Debug)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    #[command(flatten)]
    pub(crate) crs: PointCrs,
    /// Address to listen on (default [serve] addr, 127.0.0.1:8080).
    #[arg(long, value_name = "HOST:PORT")]
    pub(crate) addr: Option<String>,
    /// Watch the input files: update incrementally after every save (as `riskmap
    /// update`); the map, the change list and /api/events follow.
    #[arg(long)]
    pub(crate) watch: bool,
}

#[derive(Args, Debug)]
pub(crate) struct DbArgs {
    #[command(subcommand)]
    pub(crate) action: DbAction,
}

#[derive(Subcommand, Debug)]
pub(crate) enum DbAction {
    /// Create triggers on the input tables that notify `riskmap serve --watch` of every
    /// change (LISTEN/NOTIFY), in one transaction.
    InstallTriggers(InstallTriggersArgs),
}

#[derive(Args, Debug)]
pub(crate) struct InstallTriggersArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
}

#[derive(Args, Debug)]
pub(crate) struct UpdateArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    #[command(flatten)]
    pub(crate) crs: PointCrs,
    /// Print nothing but errors (and no progress bar).
    #[arg(long, short)]
    pub(crate) quiet: bool,
}

/// Tile options shared by `build` and `tiles`.
#[derive(Args, Debug, Clone)]
pub(crate) struct TileFlags {
    /// Zoom range MIN-MAX (default from [tiles] zoom, 8-16).
    #[arg(long, value_name = "MIN-MAX")]
    pub(crate) zoom: Option<String>,
    /// Layers to render: surface,grid,areas,points,composite (default all).
    #[arg(long, value_delimiter = ',', value_name = "A,B,…")]
    pub(crate) layers: Option<Vec<String>>,
    /// Tile outputs: pmtiles,mbtiles,xyz (default [tiles] formats: the two archives).
    #[arg(long, value_delimiter = ',', value_name = "F,…")]
    pub(crate) formats: Option<Vec<String>>,
}

impl TileFlags {
    pub(crate) fn given(&self) -> bool {
        self.zoom.is_some() || self.layers.is_some() || self.formats.is_some()
    }

    /// `--formats` into the config (checked with the config's other values).
    pub(crate) fn apply(&self, cfg: &mut Config) -> Result<()> {
        if let Some(f) = &self.formats {
            cfg.tiles.formats = Some(f.clone());
            cfg.validate()?;
        }
        Ok(())
    }
    pub(crate) fn options(&self, quiet: bool) -> Result<riskmap::tiles::TilesOptions> {
        let zoom = match &self.zoom {
            None => None,
            Some(z) => {
                let (a, b) = z.split_once('-').unwrap_or((z, z));
                let (a, b): (u8, u8) = (
                    a.trim().parse().context("--zoom MIN-MAX")?,
                    b.trim().parse().context("--zoom MIN-MAX")?,
                );
                if a > b || b > 22 {
                    bail!("--zoom {z}: MIN-MAX within 0..22");
                }
                Some([a, b])
            }
        };
        let layers = match &self.layers {
            None => None,
            Some(v) => Some(
                v.iter()
                    .map(|l| {
                        l.parse::<riskmap::render::Layer>()
                            .map_err(anyhow::Error::msg)
                    })
                    .collect::<Result<Vec<_>>>()?,
            ),
        };
        Ok(riskmap::tiles::TilesOptions {
            zoom,
            layers,
            quiet,
        })
    }
}

#[derive(Args, Debug)]
pub(crate) struct TilesArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    #[command(flatten)]
    pub(crate) crs: PointCrs,
    #[command(flatten)]
    pub(crate) tiles: TileFlags,
    /// Also write GCJ-02 pyramids (for a Gaode / Tencent basemap).
    #[arg(long = "crs-out", value_name = "CRS")]
    pub(crate) crs_out: Vec<Crs>,
    /// No progress bar.
    #[arg(long, short)]
    pub(crate) quiet: bool,
}

#[derive(Args, Debug)]
pub(crate) struct BenchArgs {
    /// Register sizes to measure: `sample` (5,000) and enterprise counts.
    #[arg(long, value_delimiter = ',', default_value = "sample,100000,1000000")]
    pub(crate) sizes: Vec<String>,
    /// Working folder for generated registers and outputs.
    #[arg(long, value_name = "DIR", default_value = "target/bench")]
    pub(crate) work: PathBuf,
    /// Folder of the peer scripts (numpy/scipy + GDAL) to run on the same points.
    #[arg(long, value_name = "DIR", default_value = "../shared/bench/peer")]
    pub(crate) peer_dir: PathBuf,
    /// Number of peer points (its clustered generator). 0 skips the peer.
    #[arg(long, default_value_t = 100_000)]
    pub(crate) peer_points: usize,
    /// Also render the sample's tile pyramids (`[tiles]` zooms, every layer) and compare
    /// with the encode-only ceiling.
    #[arg(long)]
    pub(crate) tiles: bool,
    /// Zoom ranges at which to compare the surface pyramid with the peer's gdal2tiles
    /// path on its points (e.g. 8-14,8-16); none by default.
    #[arg(long, value_delimiter = ',', value_name = "MIN-MAX,…")]
    pub(crate) peer_tiles: Vec<String>,
    /// Load-test `riskmap serve` on the built sample instead (run `riskmap build` first):
    /// tiles and /api/at over loopback, requests/s and p50/p99 latency.
    #[arg(long)]
    pub(crate) serve: bool,
    /// Measure the database path instead: load the generated register (largest of
    /// --sizes) into this PostgreSQL/PostGIS database (schema riskmap_bench), time
    /// `validate` from it beside `validate` from the CSV files (fresh processes), and
    /// `publish` of every layer.
    #[arg(long, value_name = "URL")]
    pub(crate) db: Option<String>,
    /// Measure the live map instead: a full build of the generated register (first size
    /// of --sizes that is a count), then `serve --watch` on it and the time from a save
    /// to the new tiles served (1 and 1,000 regraded enterprises, a save that changes
    /// nothing), and `riskmap update` as a command.
    #[arg(long)]
    pub(crate) update: bool,
    /// Measure emergency command instead: on the generated register (first size of
    /// --sizes that is a count) with its resources and lifelines, the nearest help of
    /// every kind for every enterprise and the lifeline joins (zones, radii, ranked
    /// segments), each the median of three in this process after loading.
    #[arg(long)]
    pub(crate) emergency: bool,
    /// With --serve: concurrent keep-alive connections.
    #[arg(long, default_value_t = 4)]
    pub(crate) connections: usize,
    /// Internal: measure one prepared register in this process and print JSON.
    #[arg(long, hide = true, value_name = "DIR")]
    pub(crate) child: Option<PathBuf>,
    /// Internal: with --child, the peer's points file instead of a register folder.
    #[arg(long, hide = true)]
    pub(crate) child_peer: bool,
}

/// Where the inputs come from. Flags win over the config file.
#[derive(Args, Debug, Clone)]
pub(crate) struct InputArgs {
    /// Config file (TOML). Default: ./riskmap.toml if it exists.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Enterprise register: CSV (UTF-8 or GBK), XLSX or GeoJSON points.
    #[arg(long, value_name = "FILE")]
    pub(crate) enterprises: Option<PathBuf>,
    /// Risk-point assessments (LEC / LS / MES / direct).
    #[arg(long, value_name = "FILE")]
    pub(crate) assessments: Option<PathBuf>,
    /// Hidden dangers (隐患): enterprise id, grade 一般/重大, status 未整改/整改中/已整改.
    #[arg(long, value_name = "FILE")]
    pub(crate) hazards: Option<PathBuf>,
    /// Sensitive sites (学校, 幼儿园, 医院, 养老院, 居民区 …) for the exposure analysis.
    #[arg(long, value_name = "FILE")]
    pub(crate) sites: Option<PathBuf>,
    /// District boundaries (GeoJSON Polygon / MultiPolygon).
    #[arg(long, value_name = "FILE")]
    pub(crate) boundaries: Option<PathBuf>,
    /// CRS of the boundary file.
    #[arg(long, value_name = "CRS")]
    pub(crate) boundaries_crs: Option<Crs>,
    /// Output folder (default: output/ beside the config).
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
    /// Style file with the level colours (default: styles/default.toml values).
    #[arg(long, value_name = "FILE")]
    pub(crate) style: Option<PathBuf>,
    /// Font file for the overview map's Chinese text (default: a system CJK font, else the bundled one).
    #[arg(long, value_name = "FILE")]
    pub(crate) font: Option<PathBuf>,
    /// Read the inputs from PostgreSQL/PostGIS: postgresql://user@host:port/db (the
    /// password from PGPASSWORD or ~/.pgpass); tables enterprises, assessments,
    /// hidden_dangers, sites, boundaries unless the config names others.
    #[arg(long, value_name = "URL")]
    pub(crate) db: Option<String>,
}

/// CRS of the point files, for `build` and `validate`.
#[derive(Args, Debug, Clone)]
pub(crate) struct PointCrs {
    /// CRS of the point files' coordinates: wgs84, cgcs2000, gcj02 or bd09 (a `crs` column wins per row).
    #[arg(long, value_name = "CRS")]
    pub(crate) crs: Option<Crs>,
}

#[derive(Args, Debug)]
pub(crate) struct ValidateArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    #[command(flatten)]
    pub(crate) crs: PointCrs,
}

#[derive(Args, Debug)]
pub(crate) struct BuildArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    #[command(flatten)]
    pub(crate) crs: PointCrs,
    /// Fail (exit 1) and write nothing if any row is rejected.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Also write copies in this CRS for a Chinese basemap: gcj02 (Gaode/Tencent) or bd09 (Baidu). Repeatable.
    #[arg(long = "crs-out", value_name = "CRS")]
    pub(crate) crs_out: Vec<Crs>,
    /// Print nothing but errors (and no progress bar).
    #[arg(long, short)]
    pub(crate) quiet: bool,
    #[command(flatten)]
    pub(crate) tiles: TileFlags,
}

#[derive(Args, Debug)]
pub(crate) struct QueryArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    /// Enterprises within --radius metres of LON,LAT.
    #[arg(long, value_name = "LON,LAT", requires = "radius")]
    pub(crate) near: Option<String>,
    /// Radius in metres for --near.
    #[arg(long, value_name = "M")]
    pub(crate) radius: Option<f64>,
    /// Enterprises inside W,S,E,N.
    #[arg(long, value_name = "W,S,E,N")]
    pub(crate) bbox: Option<String>,
    /// The K nearest enterprises to --at.
    #[arg(long, value_name = "K", requires = "at")]
    pub(crate) nearest: Option<usize>,
    /// What is at LON,LAT: its district and the nearest enterprises.
    #[arg(long, value_name = "LON,LAT")]
    pub(crate) at: Option<String>,
    /// CRS of the query point / box: wgs84 (default), gcj02 for a point copied from Gaode, bd09 from Baidu.
    #[arg(long, value_name = "CRS", default_value = "wgs84")]
    pub(crate) crs: Crs,
    /// CRS of the point files' coordinates (as --crs of `build`).
    #[arg(long, value_name = "CRS")]
    pub(crate) input_crs: Option<Crs>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Args, Debug)]
pub(crate) struct SampleArgs {
    /// Number of enterprises.
    #[arg(long, default_value_t = 5000)]
    pub(crate) count: usize,
    /// Random seed; the same seed gives the same bytes.
    #[arg(long, default_value_t = 2026)]
    pub(crate) seed: u64,
    /// Output folder.
    #[arg(long, value_name = "DIR", default_value = "data/sample")]
    pub(crate) out: PathBuf,
}
