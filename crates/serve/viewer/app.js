/* riskmap viewer: four-colour work-safety risk map on Leaflet.
 * Plain ES2017, no build step, no network access beyond the riskmap server itself.
 * API: /api/meta, /api/stats, /api/enterprises, /api/enterprises/{id}, /api/at,
 *      /geojson/{name}.geojson, /tiles/{layer}/{z}/{x}/{y}.png,
 *      /api/changes?since=N, /api/events (Server-Sent Events: the live map)
 */
(function () {
  'use strict';

  // ------------------------------------------------------------------ constants
  var LEVEL_KEYS = ['red', 'orange', 'yellow', 'blue', 'unassessed'];
  var RANK = { unassessed: 0, blue: 1, yellow: 2, orange: 3, red: 4 };
  var DEFAULT_LEVELS = [
    { key: 'red', zh: '重大风险', en: 'Major', color: '#FF0000' },
    { key: 'orange', zh: '较大风险', en: 'Considerable', color: '#FF9900' },
    { key: 'yellow', zh: '一般风险', en: 'General', color: '#FFFF00' },
    { key: 'blue', zh: '低风险', en: 'Low', color: '#0070C0' },
    { key: 'unassessed', zh: '未评估', en: 'Unassessed', color: '#9E9E9E' }
  ];
  // the deciding rule of an enterprise's level (`rule` of /api/enterprises/{id}), in words
  var RULE_TEXT = {
    open_major_hidden_danger: ['存在未整改完成的重大事故隐患，直接判定为重大风险', 'Open major hidden danger: major risk'],
    fatal_accident: ['近12个月发生生产安全死亡事故，直接判定为重大风险', 'Fatal accident in the last 12 months: major risk'],
    major_hazard_floor: ['按重大危险源等级确定的最低风险等级', 'Floor set by the major hazard source grade'],
    risk_point: ['按风险点评价结果，取最高等级（就高）', 'Highest level of its risk points'],
    direct: ['名录中直接填报的风险等级', 'Level stated in the register'],
    none: ['无风险评估记录，未评估', 'No risk assessment']
  };
  // the change feed's kinds (/api/changes, /api/events), when the item carries no kind_zh
  // or the viewer speaks English
  var KIND_TEXT = {
    level_up: ['升级', 'Level up'], level_down: ['降级', 'Level down'], added: ['新增', 'Added'],
    removed: ['移除', 'Removed'], danger_opened: ['隐患新增', 'Hidden danger opened'],
    danger_closed: ['隐患销号', 'Hidden danger closed'], district_level: ['区县等级变化', 'District level'],
    zones: ['风险区变化', 'Risk zones']
  };
  // short level names for "from → to" in the change list
  var SHORT_LEVEL = {
    red: ['重大', 'Major'], orange: ['较大', 'Considerable'], yellow: ['一般', 'General'], blue: ['低', 'Low'],
    unassessed: ['未评估', 'Unassessed'], none: ['无', 'none']
  };
  var CHANGE_ROWS = 50;           // rows kept in 最近变化
  var CHANGE_ALERTS = 10;         // alerts kept above them
  var CHANGE_ENTRIES = 20;        // generations read from /api/changes on load
  var METHOD_TEXT = {
    LEC: ['LEC 作业条件危险性分析', 'LEC'], LS: ['LS 风险矩阵', 'LS risk matrix'], MES: ['MES 评价法', 'MES'],
    direct: ['直接判定', 'Direct'], Direct: ['直接判定', 'Direct']
  };
  var RADIUS_M = 500;
  var ZONE_OPACITY = 1;           // the surface tiles carry the style's zone alpha themselves
  var AREAS_OPACITY = 0.35;       // district-by-level fill (styles/default.toml areas_opacity)
  var POINT_LIMIT = 5000;
  var POINT_DEBOUNCE_MS = 200;

  var I18N = {
    zh: {
      modeVector: '矢量', modeRaster: '栅格', modeVectorTitle: '切换到矢量瓦片地图（MapLibre，门户所见）', modeRasterTitle: '切换回栅格瓦片地图',
      vectorColorblind: '色盲友好配色（矢量）', vectorNoTiles: '本输出没有矢量瓦片（[vector] enabled）',
      emergency: '应急救援', have: '有', haveNot: '无', ownTeam: '自有救援队伍', partner: '救援协议单位', fireStation: '{m}分钟到达的消防站', outsideReach: '不在任何消防站{m}分钟到达范围内',
      nearestHelp: '最近应急资源（直线距离）', nearbyHelp: '附近应急资源（直线距离）', nearestHelpRoad: '最快到达的应急资源（路网行车时间）', nearbyHelpRoad: '附近应急资源（路网行车时间）', driveMin: '行车 {n} 分钟', roadM: '路程 {d}', notGiven: '未填', gapsTitle: '应急缺口',
      search: '搜索企业', searchPlaceholder: '企业名称或统一社会信用代码', layers: '图层',
      layerResources: '应急资源', layerReach: '消防站{m}分钟到达范围（直线）', layerReachRoad: '消防站{m}分钟到达范围（路网）', layerLifelines: '城市生命线及保护范围',
      lifelinesTitle: '临近城市生命线', protectW: '保护范围', controlW: '控制范围',
      alarmBanner: '监测报警', alarmSince: '起', alarmClearing: '已回落，延时消警中', faultsN: '{n} 个测点离线（超过 {s} 秒无数据）',
      monitoringTitle: '重大危险源监测', monitoringPoints: '{n} 个监测点，当前无报警', alarmsOnMap: '{n} 家企业监测报警',
      lastSeen: '最后数据', never: '从未上报',
      layerSurface: '风险分区', layerGrid: '网格', layerDistricts: '区县', layerPoints: '企业点位',
      legend: '图例', filters: '筛选', filterLevel: '风险等级', filterIndustry: '行业',
      filterDistrict: '区县', reset: '重置筛选', back: '← 返回', close: '关闭',
      allLevels: '全部等级', redOrange: '重大 + 较大风险', allIndustries: '全部行业', allDistricts: '全部区县',
      total: '合计', dataDate: '数据日期：', loading: '加载中…', loadingPoints: '正在加载企业点位…',
      noResults: '无匹配企业', searching: '搜索中…',
      hint: '点击地图任意位置，查看该处的风险分区、所在网格与区县统计、周边500米内的企业和敏感目标；点击企业点位查看企业详情。',
      atTitle: '位置查询', empty: '此处{r}米内无风险企业，不在风险分区内',
      surface: '风险分区', zone: '分区', grid: '网格', district: '区县', outsideZone: '不在风险分区内',
      none: '无', entsWithin: '{r}米内企业（{n}）', noEnts: '{r}米内无企业', sites: '周边敏感目标（{n}）',
      noSites: '附近无敏感目标', enterprisesN: '{n}家企业', areaKm2: '{a} 平方公里',
      industry: '行业', creditCode: '统一社会信用代码', entId: '企业编号', rule: '判定规则', tier: '管控层级',
      majorHazard: '重大危险源', employees: '从业人数', coords: '坐标', reason: '定级依据', adcode: '行政区划代码',
      riskPoints: '风险点（{n}）', hiddenDangers: '隐患（{n}）', rpName: '名称', method: '方法', score: '分值',
      level: '等级', hdId: '编号', grade: '等级', status: '状态', desc: '描述', extra: '其他信息', noRows: '无',
      shownFirst: '仅显示前{n}个（共{total}个）', error: '出错：', mouse: '鼠标位置', noPointsLayer: '无此图层',
      yes: '是', no: '否', radius: '半径',
      basemap: '底图', noBasemap: '无底图', layerAreas: '区县风险等级', zoneOpacity: '分区不透明度',
      legendZones: '风险分区（图上颜色）', legendAreas: '区县风险等级（按区县内最高等级）', legendPoints: '企业点位（企业数）',
      exportPng: '导出图片', print: '打印', copyLink: '复制链接', linkCopied: '已复制当前视图链接',
      exporting: '正在导出图片…', exported: '已导出图片', exportNoBasemap: '底图服务不允许读取像素，导出的图片不含底图',
      madeBy: '使此处为{level}的企业（{n}）', madeByNone: '未找到使此处着色的企业',
      openHazards: '未整改隐患', openMajorHazards: '其中重大事故隐患', influence: '影响半径', warnings: '数据提示',
      itemsN: '{n}项', metresN: '{n}米', districtLevel: '区县等级', exportedAt: '导出时间', scaleAt: '比例尺',
      dataSource: '数据来源', levelOf: '{name}：{level}',
      changes: '最近变化', noChanges: '暂无变化', live: '实时', liveOff: '离线', liveUpdated: '更新于 {t}',
      liveTitle: '数据版本 {g}；点击查看最近变化', liveTitleOff: '与服务器的实时连接中断，正在重连；点击查看最近变化'
    },
    en: {
      modeVector: 'Vector', modeRaster: 'Raster', modeVectorTitle: 'Switch to the vector-tile map (MapLibre, as a portal shows it)', modeRasterTitle: 'Switch back to the raster-tile map',
      vectorColorblind: 'Colour-blind style (vector)', vectorNoTiles: 'This output has no vector tiles ([vector] enabled)',
      emergency: 'Emergency response', have: 'yes', haveNot: 'no', ownTeam: 'Own rescue team', partner: 'Rescue agreement with', fireStation: 'Fire station within {m} minutes', outsideReach: 'Outside every fire station\'s {m}-minute reach',
      nearestHelp: 'Nearest help (straight line)', nearbyHelp: 'Help nearby (straight line)', nearestHelpRoad: 'Soonest help (driving time by road)', nearbyHelpRoad: 'Help nearby (driving time by road)', driveMin: '{n} min drive', roadM: '{d} by road', notGiven: 'not given', gapsTitle: 'Gaps',
      search: 'Search enterprise', searchPlaceholder: 'Name or unified social credit code', layers: 'Layers',
      layerResources: 'Emergency resources', layerReach: 'Fire stations\' {m}-minute reach (straight line)', layerReachRoad: 'Fire stations\' {m}-minute reach (by road)', layerLifelines: 'City lifelines and protection zones',
      lifelinesTitle: 'Lifelines nearby', protectW: 'protection', controlW: 'control',
      alarmBanner: 'Monitoring alarm', alarmSince: 'since', alarmClearing: 'back below, clearing after the delay', faultsN: '{n} points silent (no data for over {s} s)',
      monitoringTitle: 'Major hazard monitoring', monitoringPoints: '{n} points, no alarm', alarmsOnMap: '{n} enterprises in alarm',
      lastSeen: 'last data', never: 'never reported',
      layerSurface: 'Risk zones (surface)', layerGrid: 'Grid', layerDistricts: 'Districts', layerPoints: 'Enterprises',
      legend: 'Legend', filters: 'Filters', filterLevel: 'Level', filterIndustry: 'Industry',
      filterDistrict: 'District', reset: 'Reset filters', back: '← Back', close: 'Close',
      allLevels: 'All levels', redOrange: 'Major + Considerable', allIndustries: 'All industries', allDistricts: 'All districts',
      total: 'Total', dataDate: 'Data as of ', loading: 'Loading…', loadingPoints: 'Loading enterprises…',
      noResults: 'No matching enterprise', searching: 'Searching…',
      hint: 'Click anywhere on the map for the risk zone, grid cell and district statistics there, and the enterprises and sensitive sites within 500 m. Click an enterprise dot for its card.',
      atTitle: 'Location', empty: 'No enterprise within {r} m; outside every risk zone',
      surface: 'Risk surface', zone: 'Zone', grid: 'Grid cell', district: 'District', outsideZone: 'Outside every risk zone',
      none: 'none', entsWithin: 'Enterprises within {r} m ({n})', noEnts: 'No enterprise within {r} m',
      sites: 'Sensitive sites nearby ({n})', noSites: 'No sensitive site nearby', enterprisesN: '{n} enterprises',
      areaKm2: '{a} km²',
      industry: 'Industry', creditCode: 'Credit code', entId: 'ID', rule: 'Rule', tier: 'Control tier',
      majorHazard: 'Major hazard', employees: 'Employees', coords: 'Coordinates', reason: 'Reason', adcode: 'Adcode',
      riskPoints: 'Risk points ({n})', hiddenDangers: 'Hidden dangers ({n})', rpName: 'Name', method: 'Method',
      score: 'Score', level: 'Level', hdId: 'ID', grade: 'Grade', status: 'Status', desc: 'Description',
      extra: 'Other fields', noRows: 'none', shownFirst: 'Showing first {n} of {total}', error: 'Error: ',
      mouse: 'Mouse', noPointsLayer: 'layer not available', yes: 'yes', no: 'no', radius: 'radius',
      basemap: 'Basemap', noBasemap: 'No basemap', layerAreas: 'Districts by level', zoneOpacity: 'Zone opacity',
      legendZones: 'Risk zones (as drawn)', legendAreas: 'District level (highest inside)', legendPoints: 'Enterprises (count)',
      exportPng: 'Export image', print: 'Print', copyLink: 'Copy link', linkCopied: 'Link to this view copied',
      exporting: 'Exporting image…', exported: 'Image exported', exportNoBasemap: 'The basemap service does not allow reading its pixels; the image leaves it out',
      madeBy: 'Enterprises making this {level} ({n})', madeByNone: 'No enterprise found that colours this zone',
      openHazards: 'Open hidden dangers', openMajorHazards: 'of which major', influence: 'Influence radius', warnings: 'Data notes',
      itemsN: '{n}', metresN: '{n} m', districtLevel: 'District level', exportedAt: 'Exported', scaleAt: 'Scale',
      dataSource: 'Data', levelOf: '{name}: {level}',
      changes: 'Recent changes', noChanges: 'No changes yet', live: 'Live', liveOff: 'Offline', liveUpdated: 'updated {t}',
      liveTitle: 'Data version {g}; click for the recent changes', liveTitleOff: 'Live connection lost, reconnecting; click for the recent changes'
    }
  };

  // ------------------------------------------------------------------ state
  var state = {
    lang: initialLang(),
    meta: null,
    crs: 'wgs84',              // CRS of the map's coordinates (follows the basemap)
    levels: DEFAULT_LEVELS.slice(),
    filters: { level: '', industry: '', district: '' },
    visible: { red: true, orange: true, yellow: true, blue: true, unassessed: true },
    stats: null,
    points: { count: 0, total: 0, ids: new Set(), loads: 0, error: null, levels: '' },
    panel: null,               // { kind: 'hint' | 'loading' | 'at' | 'card' | 'error', ... }
    districts: null,           // GeoJSON as loaded
    areas: null,               // areas GeoJSON (districts with their level) as loaded
    layers: { surface: true, grid: false, districts: true, areas: false, resources: false, reach: false, lifelines: false },
    basemaps: [],              // choices: { name, crs, entries: [basemap, its overlays…] }
    basemap: -1,               // index into basemaps, -1 = 无底图
    zoneOpacity: ZONE_OPACITY,
    zoneColors: {},            // level → [r, g, b, a 0..1] sampled from the surface tiles
    tiles: { ok: 0, errors: 0 },
    errors: [],
    // the live map: the output generation shown (tile URLs carry it as ?g=) and the change
    // feed (/api/changes, /api/events)
    live: {
      number: null,            // the generation as a number (null: a folder without generations)
      header: '',              // the last x-riskmap-generation header seen
      seen: {},                // generation → true: change records already listed
      maxSeen: null,
      rows: [],                // { gen, time, item }, newest first
      alerts: [],              // { gen, time, alert }, newest first
      connected: false,
      lost: false,             // the connection failed (till the next one opens)
      updatedAt: null          // when the last new generation was switched in here
    }
  };
  // for integrators and tests: the generation shown and the number of events received
  var live = window.riskmapLive = { generation: '', events: 0, connected: false };

  var readyResolve, readyReject;
  var ready = new Promise(function (res, rej) { readyResolve = res; readyReject = rej; });
  ready.catch(function () { /* reported in the status bar */ });

  // ------------------------------------------------------------------ helpers
  function initialLang() {
    var m = /[?&]lang=(zh|en)\b/.exec(location.search);
    if (m) return m[1];
    try { if (localStorage.getItem('riskmap.lang') === 'en') return 'en'; } catch (e) { /* private mode */ }
    return 'zh';
  }
  // the fire stations' response time of the build ([emergency.fire] response_min)
  function fireMin() {
    var m = state.meta && state.meta.fire_response_min;
    return typeof m === 'number' && isFinite(m) ? String(Math.round(m * 10) / 10) : '5';
  }
  function t(key, vars) {
    var s = (I18N[state.lang] && I18N[state.lang][key]) || I18N.zh[key] || key;
    if (s.indexOf('{m}') >= 0 && !(vars && vars.m != null)) s = s.replace(/\{m\}/g, fireMin());
    if (vars) s = s.replace(/\{(\w+)\}/g, function (m, k) { return vars[k] != null ? vars[k] : m; });
    return s;
  }
  function esc(v) {
    return String(v == null ? '' : v).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function $(id) { return document.getElementById(id); }
  function levelInfo(key) {
    for (var i = 0; i < state.levels.length; i++) if (state.levels[i].key === key) return state.levels[i];
    for (var j = 0; j < DEFAULT_LEVELS.length; j++) if (DEFAULT_LEVELS[j].key === key) return DEFAULT_LEVELS[j];
    return { key: key, zh: key, en: key, color: '#9E9E9E' };
  }
  function levelName(key, zhFallback) {
    if (!key) return zhFallback || '';
    var l = levelInfo(key);
    if (state.lang === 'en') return l.key === 'unassessed' ? l.en : l.en + ' risk';
    return l.zh || zhFallback || key;
  }
  function levelColor(key) { return levelInfo(key).color || '#9E9E9E'; }
  function textOn(hex) {
    var m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})/i.exec(hex || '');
    if (!m) return '#000';
    var r = parseInt(m[1], 16), g = parseInt(m[2], 16), b = parseInt(m[3], 16);
    return (0.299 * r + 0.587 * g + 0.114 * b) > 150 ? '#1f2933' : '#fff';
  }
  function swatch(key) {
    return '<span class="swatch" style="background:' + esc(levelColor(key)) + '"></span>';
  }
  function badge(key, zh, cls) {
    var c = levelColor(key);
    return '<span class="badge ' + (cls || '') + '" data-level="' + esc(key) + '" style="background:' + esc(c) +
      ';color:' + textOn(c) + '">' + esc(levelName(key, zh)) + '</span>';
  }
  function fmtDist(m) { return m == null ? '' : (m >= 1000 ? (m / 1000).toFixed(2) + ' km' : Math.round(m) + ' m'); }
  function fmtNum(v, d) { return (typeof v === 'number' && isFinite(v)) ? (Math.round(v * Math.pow(10, d)) / Math.pow(10, d)).toString() : (v == null ? '' : String(v)); }

  function setStatus(msg, isError) {
    var el = $('status');
    el.textContent = msg || '';
    el.classList.toggle('error', !!isError);
  }
  function reportError(where, err) {
    if (err && err.name === 'AbortError') return;
    var msg = (err && err.message) || String(err);
    state.errors.push({ where: where, message: msg, at: Date.now() });
    console.error('[riskmap] ' + where + ':', err);
    setStatus(t('error') + msg, true);
  }

  // GET JSON from the server; params with empty values are left out.
  function api(path, params, signal) {
    var qs = [];
    if (params) {
      Object.keys(params).forEach(function (k) {
        var v = params[k];
        if (v === undefined || v === null || v === '') return;
        qs.push(encodeURIComponent(k) + '=' + encodeURIComponent(v));
      });
    }
    var url = path + (qs.length ? (path.indexOf('?') >= 0 ? '&' : '?') + qs.join('&') : '');
    return fetch(url, { signal: signal, headers: { Accept: 'application/json' } }).then(function (r) {
      var g = r.headers && r.headers.get('x-riskmap-generation');
      if (g) state.live.header = g;
      return r.text().then(function (body) {
        var data = null;
        try { data = body ? JSON.parse(body) : null; } catch (e) { /* not JSON */ }
        if (!r.ok) {
          var msg = (data && data.error) ? data.error + (data.param ? ' (' + data.param + ')' : '') : ('HTTP ' + r.status);
          var err = new Error(msg + ' — ' + path);
          err.status = r.status;
          err.body = data;
          throw err;
        }
        if (data === null) throw new Error('invalid JSON from ' + path);
        return data;
      });
    });
  }
  function crsParam() { return state.crs === 'gcj02' ? 'gcj02' : ''; }

  // ------------------------------------------------------------------ WGS84 ↔ GCJ-02
  // The published ("eviltransform") GCJ-02 algorithm; identical to src/crs.rs.
  var GCJ_A = 6378245.0, GCJ_EE = 0.00669342162296594323;
  function inChina(lng, lat) { return lng >= 72.004 && lng <= 137.8347 && lat >= 0.8293 && lat <= 55.8271; }
  function gcjDelta(lng, lat) {
    var PI = Math.PI, x = lng - 105.0, y = lat - 35.0;
    var dLat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    dLat += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    dLat += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
    dLat += (160.0 * Math.sin(y / 12.0 * PI) + 320.0 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    var dLng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    dLng += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    dLng += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
    dLng += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    var radLat = lat / 180.0 * PI;
    var magic = 1 - GCJ_EE * Math.sin(radLat) * Math.sin(radLat);
    var sqrtMagic = Math.sqrt(magic);
    dLat = (dLat * 180.0) / ((GCJ_A * (1 - GCJ_EE)) / (magic * sqrtMagic) * PI);
    dLng = (dLng * 180.0) / (GCJ_A / sqrtMagic * Math.cos(radLat) * PI);
    return [dLng, dLat];
  }
  /** WGS84 → GCJ-02, [lng, lat] in and out; unchanged outside China. */
  function wgs84ToGcj02(lng, lat) {
    if (!inChina(lng, lat)) return [lng, lat];
    var d = gcjDelta(lng, lat);
    return [lng + d[0], lat + d[1]];
  }
  /** GCJ-02 → WGS84 by fixed-point iteration on the forward transform (to 1e-10°). */
  function gcj02ToWgs84(lng, lat) {
    if (!inChina(lng, lat)) return [lng, lat];
    var x = lng, y = lat;
    for (var i = 0; i < 30; i++) {
      var f = wgs84ToGcj02(x, y), ex = f[0] - lng, ey = f[1] - lat;
      if (Math.abs(ex) < 1e-10 && Math.abs(ey) < 1e-10) break;
      x -= ex; y -= ey;
    }
    return [x, y];
  }
  // WGS84 lon/lat → the map's CRS (as a Leaflet LatLng)
  function toMapLatLng(lon, lat) {
    if (state.crs === 'gcj02') { var g = wgs84ToGcj02(lon, lat); return L.latLng(g[1], g[0]); }
    return L.latLng(lat, lon);
  }

  // ------------------------------------------------------------------ map
  var map = L.map('map', {
    zoomControl: true,
    preferCanvas: true,
    attributionControl: true,
    minZoom: 3,
    maxZoom: 18,
    worldCopyJump: false
  }).setView([36.65, 117.12], 9);
  map.attributionControl.setPrefix('<a href="https://leafletjs.com" target="_blank" rel="noopener">Leaflet</a>');

  function pane(name, z, noPointer) {
    var p = map.createPane(name);
    p.style.zIndex = String(z);
    if (noPointer) p.style.pointerEvents = 'none';
    return p;
  }
  pane('basemap', 100, true);        // the chosen basemap's tiles
  pane('districtFill', 150, true);   // below the tile pane (200): the "land" when there is no basemap
  pane('areas', 170, true);          // districts filled by level, under the zones
  pane('basemapOverlay', 360, true); // a basemap's label layer (天地图 cva_w): over the zones
  pane('districtLine', 380, true);   // above tiles, below the points (overlayPane 400)
  pane('labels', 420, true);         // district names
  pane('highlight', 450, true);      // query circle, selected-enterprise ring

  var pointRenderer = L.canvas({ padding: 0.2, tolerance: 3 });
  var fillRenderer = L.canvas({ pane: 'districtFill', padding: 0.2 });
  var lineRenderer = L.canvas({ pane: 'districtLine', padding: 0.2 });
  var areasRenderer = L.canvas({ pane: 'areas', padding: 0.2 });
  var hlRenderer = L.canvas({ pane: 'highlight', padding: 0.2 });

  var tileLayers = {};              // surface / grid
  var basemapLayers = [];           // the chosen basemap and its overlays
  var districtsGroup = L.layerGroup();
  var landLayer = null;             // light district fill, drawn only without a basemap
  var areasLayer = null;            // L.geoJSON of areas.geojson, filled by level
  var pointsLayer = L.layerGroup().addTo(map);
  var highlightLayer = L.layerGroup().addTo(map);
  var markersById = new Map();

  L.control.scale({ imperial: false, metric: true, position: 'bottomleft', maxWidth: 140 }).addTo(map);

  var CoordsControl = L.Control.extend({
    options: { position: 'topright' },
    onAdd: function () {
      var div = L.DomUtil.create('div', 'coords-box');
      div.id = 'coords';
      L.DomEvent.disableClickPropagation(div);
      this._div = div;
      this.update(null);
      return div;
    },
    update: function (ll) {
      if (!this._div) return;
      var w = '—', g = '—';
      if (ll) {
        var wgs, gcj;
        if (state.crs === 'gcj02') { gcj = [ll.lng, ll.lat]; wgs = gcj02ToWgs84(ll.lng, ll.lat); }
        else { wgs = [ll.lng, ll.lat]; gcj = wgs84ToGcj02(ll.lng, ll.lat); }
        w = wgs[0].toFixed(6) + ', ' + wgs[1].toFixed(6);
        g = gcj[0].toFixed(6) + ', ' + gcj[1].toFixed(6);
      }
      this._div.innerHTML = '<div><b>WGS84</b>' + w + '</div><div><b>GCJ-02</b>' + g + '</div>';
    }
  });
  var coords = new CoordsControl();
  coords.addTo(map);
  map.on('mousemove', function (e) { coords.update(e.latlng); });
  map.on('mouseout', function () { coords.update(null); });

  // ------------------------------------------------------------------ layers
  function mapBoundsFromMeta(meta) {
    var b = meta.bounds;
    if (!Array.isArray(b) || b.length !== 4) return null;
    var sw = toMapLatLng(b[0], b[1]), ne = toMapLatLng(b[2], b[3]);
    return L.latLngBounds(sw, ne);
  }

  function tileLayerName(base) {
    var meta = state.meta;
    var layers = meta.layers || [];
    if (state.crs === 'gcj02') {
      var g = base + '_gcj02';
      return (meta.layers_gcj02 || []).indexOf(g) >= 0 ? g : null;
    }
    return layers.indexOf(base) >= 0 ? base : null;
  }

  function makeTileLayer(base, zIndex, opacity) {
    var meta = state.meta, name = tileLayerName(base);
    if (!name) return null;
    var url = String(meta.tile_url || '/tiles/{layer}/{z}/{x}/{y}.png').split('{layer}').join(encodeURIComponent(name));
    // a template pointing at another port on this machine (e.g. the TileJSON default
    // http://127.0.0.1:8080/...) cannot be what this page's server meant: keep its path
    var m = /^https?:\/\/(127\.0\.0\.1|localhost|0\.0\.0\.0|\[::1\])(:\d+)?(\/.*)$/.exec(url);
    if (m && url.indexOf(location.origin + '/') !== 0) url = m[3];
    url = withGeneration(url);
    var opts = {
      minZoom: meta.minzoom != null ? meta.minzoom : 0,
      maxNativeZoom: meta.maxzoom != null ? meta.maxzoom : 18,
      maxZoom: map.getMaxZoom(),
      zIndex: zIndex,
      opacity: opacity,
      updateWhenZooming: false,
      keepBuffer: 1
    };
    var b = mapBoundsFromMeta(meta);
    if (b) opts.bounds = b.pad(0.02);
    var layer = L.tileLayer(url, opts);
    layer.on('tileload', function () { state.tiles.ok++; });
    layer.on('tileerror', function () { state.tiles.errors++; });
    return layer;
  }

  /** A tile URL template of this server with the generation shown (`?g=000012`), so a new
   *  generation's tiles are fetched afresh instead of taken from the browser's cache. */
  function withGeneration(url) {
    var g = live.generation;
    if (!g) return url;
    return url + (url.indexOf('?') >= 0 ? '&' : '?') + 'g=' + encodeURIComponent(g);
  }

  var TILE_LAYERS = [['surface', 10], ['grid', 11]];
  function tileOpacity(key) { return key === 'surface' ? state.zoneOpacity : 0.8; }
  function newTileLayer(key, zIndex) {
    var layer = makeTileLayer(key, zIndex, tileOpacity(key));
    if (layer && key === 'surface') layer.on('tileload', function (e) { sampleZoneColors(e.tile); });
    return layer;
  }

  // the tile layers follow the map's CRS: rebuilt (plain ↔ _gcj02) when it changes
  function refreshTileLayers() {
    dropRetiring(null);
    TILE_LAYERS.forEach(function (d) {
      var old = tileLayers[d[0]];
      if (old) map.removeLayer(old);
      var layer = newTileLayer(d[0], d[1]);
      tileLayers[d[0]] = layer;
      var box = $('layer-' + d[0]);
      box.disabled = !layer;
      box.parentNode.title = layer ? '' : t('noPointsLayer');
      if (!layer) return;
      if (state.layers[d[0]]) layer.addTo(map);
    });
  }

  // A new generation: every tile layer is built again with the new ?g= and swapped in
  // once its tiles have loaded (added invisible over the old one, which stays until then):
  // no blank flash, no zone drawn twice, no page reload.
  var retiring = [];              // { key, layer, timer }: old layers shown until the new are in
  function dropRetiring(key) {
    retiring = retiring.filter(function (r) {
      if (key && r.key !== key) return true;
      clearTimeout(r.timer);
      if (map.hasLayer(r.layer)) map.removeLayer(r.layer);
      return false;
    });
  }
  function renewTileLayers() {
    TILE_LAYERS.forEach(function (d) {
      var key = d[0], old = tileLayers[key];
      if (!old) return;
      var layer = newTileLayer(key, d[1]);
      if (!layer) return;
      dropRetiring(key);
      tileLayers[key] = layer;
      if (!map.hasLayer(old)) return;      // hidden: the new one is added when switched on
      var r = { key: key, layer: old, timer: null };
      var done = function () {
        layer.off('load', done);
        clearTimeout(r.timer);
        retiring = retiring.filter(function (x) { return x !== r; });
        if (tileLayers[key] === layer) layer.setOpacity(tileOpacity(key));
        if (map.hasLayer(old)) map.removeLayer(old);
      };
      layer.setOpacity(0);
      layer.addTo(map);
      retiring.push(r);
      r.timer = setTimeout(done, 8000);    // a tile that never answers: swap anyway
      if (layer.isLoading && layer.isLoading()) layer.on('load', done);
      else done();                         // nothing to load in this view
    });
  }

  function setLayerVisible(key, on) {
    state.layers[key] = !!on;
    var box = $('layer-' + key);
    if (box) box.checked = !!on;
    var layer = key === 'districts' ? districtsGroup : key === 'areas' ? areasLayer
      : key === 'resources' ? resourcesLayer : key === 'reach' ? reachLayer : key === 'lifelines' ? lifelinesLayer : tileLayers[key];
    if (!on) dropRetiring(key);
    if (layer) {
      if (on && !map.hasLayer(layer)) layer.addTo(map);
      else if (!on && map.hasLayer(layer)) map.removeLayer(layer);
    }
    vectorSync();
    renderLegend();
    scheduleHash();
  }

  function setupTileLayers() {
    refreshTileLayers();
    ['surface', 'grid', 'districts', 'areas', 'resources', 'reach', 'lifelines'].forEach(function (key) {
      var box = $('layer-' + key);
      box.checked = !!state.layers[key];
      box.addEventListener('change', function () { setLayerVisible(key, box.checked); });
    });
    var op = $('zone-opacity');
    op.value = String(Math.round(state.zoneOpacity * 100));
    op.addEventListener('input', function () {
      state.zoneOpacity = Math.max(0.1, Math.min(1, Number(op.value) / 100));
      if (tileLayers.surface) tileLayers.surface.setOpacity(state.zoneOpacity);
      vectorSync();
      renderLegend();
      scheduleHash();
    });
  }

  // ------------------------------------------------------------------ basemaps
  // meta.basemaps: non-overlay entries are choices; an overlay entry is drawn over the
  // choice before it (天地图 vec_w + cva_w). The old single meta.basemap is a fallback.
  function basemapChoices(meta) {
    var list = Array.isArray(meta.basemaps) && meta.basemaps.length ? meta.basemaps
      : (meta.basemap && meta.basemap.url ? [meta.basemap] : []);
    var out = [];
    list.forEach(function (b) {
      if (!b || !b.url) return;
      if (b.overlay) { if (out.length) out[out.length - 1].entries.push(b); return; }
      out.push({ name: b.name || t('basemap') + (out.length + 1), crs: b.crs === 'gcj02' ? 'gcj02' : 'wgs84', entries: [b] });
    });
    return out;
  }
  function buildBasemapList() {
    var ul = $('basemap-list'), h = [];
    state.basemaps.forEach(function (c, i) {
      h.push('<li><label><input type="radio" name="basemap" id="basemap-' + i + '" value="' + i + '"' +
        (state.basemap === i ? ' checked' : '') + '> <span class="name">' + esc(c.name) + '</span>' +
        (c.crs === 'gcj02' ? ' <span class="muted crs-tag">GCJ-02</span>' : '') + '</label></li>');
    });
    h.push('<li><label><input type="radio" name="basemap" id="basemap-none" value="-1"' +
      (state.basemap < 0 ? ' checked' : '') + '> <span class="name">' + esc(t('noBasemap')) + '</span></label></li>');
    ul.innerHTML = h.join('');
  }
  function setupBasemapControl() {
    $('basemap-list').addEventListener('change', function (e) {
      if (e.target && e.target.name === 'basemap') setBasemap(Number(e.target.value));
    });
  }
  function basemapTileLayer(b, overlay) {
    return L.tileLayer(b.url, {
      attribution: b.attribution || '',
      maxZoom: map.getMaxZoom(),
      maxNativeZoom: b.maxzoom || 18,
      subdomains: b.subdomains || 'abc',
      pane: overlay ? 'basemapOverlay' : 'basemap',
      zIndex: 1
    });
  }
  /** Show basemap choice i (-1: none); the layers are re-aligned when its CRS differs. */
  function setBasemap(i, opts) {
    if (!(i >= 0 && i < state.basemaps.length)) i = -1;
    basemapLayers.forEach(function (l) { map.removeLayer(l); });
    basemapLayers = [];
    state.basemap = i;
    var choice = i >= 0 ? state.basemaps[i] : null;
    if (choice) {
      choice.entries.forEach(function (b, k) { basemapLayers.push(basemapTileLayer(b, k > 0).addTo(map)); });
    }
    $('map').classList.toggle('no-basemap', !choice);
    var radio = $(i >= 0 ? 'basemap-' + i : 'basemap-none');
    if (radio) radio.checked = true;
    syncLand();
    // 无底图 has no CRS of its own: the map stays in the one it is in
    var crs = choice ? choice.crs : state.crs;
    if (crs !== state.crs) setCrs(crs, opts);
    if (vec.on && vec.map) {
      var c = map.getCenter();
      vec.map.jumpTo({ center: [c.lng, c.lat] });
      vectorSetStyle().catch(function (e) { reportError('vector', e); });
    }
    scheduleHash();
  }
  // without a basemap the districts' light fill is the land
  function syncLand() {
    if (!landLayer) return;
    var want = state.basemap < 0;
    if (want && !districtsGroup.hasLayer(landLayer)) districtsGroup.addLayer(landLayer);
    else if (!want && districtsGroup.hasLayer(landLayer)) districtsGroup.removeLayer(landLayer);
  }
  /** Switch the map's coordinates to `crs`, keeping the same place on the ground in view. */
  function setCrs(crs, opts) {
    var c = map.getCenter(), z = map.getZoom();
    var wgs = state.crs === 'gcj02' ? gcj02ToWgs84(c.lng, c.lat) : [c.lng, c.lat];
    state.crs = crs;
    var b = mapBoundsFromMeta(state.meta);
    map.setMaxBounds(null);
    if (!(opts && opts.keepView)) map.setView(toMapLatLng(wgs[0], wgs[1]), z, { animate: false });
    if (b) map.setMaxBounds(b.pad(0.6));
    highlightLayer.clearLayers();
    refreshTileLayers();
    if (state.started) {
      loadDistricts().catch(function (e) { reportError('districts', e); });
      loadAreas().catch(function (e) { reportError('areas', e); });
      loadResources().catch(function (e) { reportError('resources', e); });
      loadLifelines().catch(function (e) { reportError('lifelines', e); });
      drawAlarms();
      schedulePoints(0);
    }
  }

  // district outlines (+ a light "land" fill when there is no basemap) and name labels
  function ringCentroid(ring) {
    var a = 0, cx = 0, cy = 0;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var f = ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
      a += f; cx += (ring[j][0] + ring[i][0]) * f; cy += (ring[j][1] + ring[i][1]) * f;
    }
    if (Math.abs(a) < 1e-12) return [ring[0][0], ring[0][1], 0];
    return [cx / (3 * a), cy / (3 * a), Math.abs(a / 2)];
  }
  function featureCentroid(f) {
    var p = f.properties || {};
    if (Array.isArray(p.centroid) && p.centroid.length >= 2 && isFinite(p.centroid[0]) && isFinite(p.centroid[1])) {
      return [Number(p.centroid[0]), Number(p.centroid[1])];
    }
    var g = f.geometry;
    if (!g) return null;
    var polys = g.type === 'Polygon' ? [g.coordinates] : (g.type === 'MultiPolygon' ? g.coordinates : []);
    var best = null;
    polys.forEach(function (poly) {
      if (!poly || !poly[0] || poly[0].length < 3) return;
      var c = ringCentroid(poly[0]);
      if (!best || c[2] > best[2]) best = c;
    });
    return best ? [best[0], best[1]] : null;
  }

  // a GeoJSON output in the map's CRS: its *.gcj02 copy, else the WGS84 file shifted here
  function geojsonForMap(base) {
    var list = state.meta.geojson || [], name = base, convert = false;
    if (state.crs === 'gcj02') {
      if (list.indexOf(base + '.gcj02') >= 0 || list.length === 0) name = base + '.gcj02';
      else convert = true;
    }
    var c2ll = convert ? function (c) { var g = wgs84ToGcj02(c[0], c[1]); return L.latLng(g[1], g[0]); }
                       : function (c) { return L.latLng(c[1], c[0]); };
    var crs = state.crs;
    // ?g=: the server ignores it; a new generation's file is not taken from the cache
    return api('/geojson/' + name + '.geojson', { g: live.generation }).then(function (gj) {
      return { gj: gj, c2ll: c2ll, crs: crs };
    });
  }

  var districtSeq = 0;
  function loadDistricts() {
    var seq = ++districtSeq;
    return geojsonForMap('districts').then(function (r) {
      if (seq !== districtSeq || r.crs !== state.crs) return;
      var gj = r.gj, c2ll = r.c2ll;
      state.districts = gj;
      state.districtsC2ll = c2ll;
      districtsGroup.clearLayers();
      landLayer = L.geoJSON(gj, {
        coordsToLatLng: c2ll, interactive: false, renderer: fillRenderer, pane: 'districtFill',
        style: function () { return { stroke: false, fill: true, fillColor: '#fbfaf4', fillOpacity: 1 }; }
      });
      syncLand();
      districtsGroup.addLayer(L.geoJSON(gj, {
        coordsToLatLng: c2ll, interactive: false, renderer: lineRenderer, pane: 'districtLine',
        style: function () { return { color: '#4a5f74', weight: 1.3, opacity: 0.85, fill: false, dashArray: '5 3' }; }
      }));
      (gj.features || []).forEach(function (f) {
        var c = featureCentroid(f);
        var nm = f.properties && f.properties.name;
        if (!c || !nm) return;
        districtsGroup.addLayer(L.marker(c2ll(c), {
          pane: 'labels', interactive: false, keyboard: false,
          icon: L.divIcon({ className: 'district-label-icon', iconSize: null, html: '<span class="district-label">' + esc(nm) + '</span>' })
        }));
      });
      if (state.layers.districts) districtsGroup.addTo(map);
    });
  }

  // districts filled by their level (areas.geojson: level, level_zh, color, reason_zh)
  var areasSeq = 0;
  function areaColor(p) { return (p && p.level && levelInfo(p.level).color) || (p && p.color) || '#9E9E9E'; }
  // ------------------------------------------------------------------ emergency resources (#27)
  // resources.geojson as an icon per type (a character on the type's colour), and each
  // counted fire station's 5-minute reach (fire_reach.geojson)
  var RES_ICON = {
    fire_station: ['消', '#c62828'], rescue_team: ['救', '#ef6c00'], enterprise_team: ['企', '#8d6e63'],
    community_team: ['社', '#7cb342'], depot: ['物', '#5e35b1'], shelter: ['避', '#00897b'],
    hospital: ['医', '#1e88e5'], expert: ['专', '#546e7a']
  };
  var resourcesLayer = null, reachLayer = null, resSeq = 0;
  function resourceIcon(p) {
    var d = RES_ICON[p.type] || ['?', '#555'];
    var micro = p.class === 'micro';
    return L.divIcon({ className: 'res-icon' + (micro ? ' micro' : ''), iconSize: micro ? [14, 14] : [18, 18],
      html: '<span style="background:' + d[1] + '">' + esc(d[0]) + '</span>' });
  }
  function loadResources() {
    var list = state.meta.geojson || [];
    ['resources', 'reach'].forEach(function (k) {
      var row = $('layer-' + k + '-row');
      if (row) row.hidden = list.indexOf(k === 'reach' ? 'fire_reach' : 'resources') < 0;
    });
    if (list.indexOf('resources') < 0) return Promise.resolve();
    var seq = ++resSeq;
    var reach = list.indexOf('fire_reach') >= 0 ? geojsonForMap('fire_reach') : Promise.resolve(null);
    return Promise.all([geojsonForMap('resources'), reach]).then(function (rs) {
      var r = rs[0], rr = rs[1];
      if (seq !== resSeq || r.crs !== state.crs) return;
      var wasRes = resourcesLayer && map.hasLayer(resourcesLayer), wasReach = reachLayer && map.hasLayer(reachLayer);
      if (resourcesLayer) map.removeLayer(resourcesLayer);
      if (reachLayer) map.removeLayer(reachLayer);
      resourcesLayer = L.geoJSON(r.gj, {
        coordsToLatLng: r.c2ll,
        pointToLayer: function (f, ll) {
          var p = f.properties || {};
          return L.marker(ll, { icon: resourceIcon(p), keyboard: false, title: p.name + ' · ' + (p.type_zh || '') });
        }
      });
      resourcesLayer.eachLayer(function (m) {
        var p = m.feature.properties || {};
        m.bindTooltip(esc(p.name) + '<br><span class="muted">' + esc(p.type_zh || '') + (p.class_zh ? ' · ' + esc(p.class_zh) : '') +
          (p.contact ? ' · ' + esc(p.contact) : '') + '</span>', { direction: 'top', offset: [0, -8] });
      });
      reachLayer = rr ? L.geoJSON(rr.gj, {
        coordsToLatLng: rr.c2ll, interactive: false, renderer: areasRenderer, pane: 'areas',
        style: function () { return { color: '#c62828', weight: 1, opacity: 0.7, dashArray: '4 3', fill: true, fillColor: '#c62828', fillOpacity: 0.06 }; }
      }) : null;
      if (state.layers.resources || wasRes) resourcesLayer.addTo(map);
      if (reachLayer && (state.layers.reach || wasReach)) reachLayer.addTo(map);
    });
  }

  // city lifelines (lifelines.geojson): the lines coloured by kind over their protection
  // zones (filled) and control zones (dashed outline)
  var LIFELINE_COLOR = { gas: '#f9a825', pipeline: '#6d4c41', power: '#8e24aa', water: '#1e88e5', heating: '#d84315' };
  var lifelinesLayer = null, lifeSeq = 0;
  function loadLifelines() {
    var list = state.meta.geojson || [];
    var row = $('layer-lifelines-row');
    if (row) row.hidden = list.indexOf('lifelines') < 0;
    if (list.indexOf('lifelines') < 0) return Promise.resolve();
    var seq = ++lifeSeq;
    return geojsonForMap('lifelines').then(function (r) {
      if (seq !== lifeSeq || r.crs !== state.crs) return;
      var was = lifelinesLayer && map.hasLayer(lifelinesLayer);
      if (lifelinesLayer) map.removeLayer(lifelinesLayer);
      var order = { control: 0, protection: 1, line: 2 };
      var feats = (r.gj.features || []).slice().sort(function (a, b) {
        return order[(a.properties || {}).role] - order[(b.properties || {}).role];
      });
      lifelinesLayer = L.geoJSON({ type: 'FeatureCollection', features: feats }, {
        coordsToLatLng: r.c2ll, renderer: areasRenderer, pane: 'areas',
        interactive: true,
        style: function (f) {
          var p = f.properties || {}, c = LIFELINE_COLOR[p.type] || '#555';
          if (p.role === 'line') return { color: c, weight: 2.5, opacity: 0.95 };
          if (p.role === 'protection') return { color: c, weight: 0.5, opacity: 0.6, fill: true, fillColor: c, fillOpacity: 0.25 };
          return { color: c, weight: 1, opacity: 0.7, dashArray: '4 3', fill: true, fillColor: c, fillOpacity: 0.05 };
        },
        onEachFeature: function (f, layer) {
          var p = f.properties || {};
          if (p.role !== 'line') return;
          var w = t('protectW') + ' ' + p.protect_m + ' m' + (p.control_m != null ? ' · ' + t('controlW') + ' ' + p.control_m + ' m' : '');
          layer.bindTooltip(esc(p.name || p.id) + '<br><span class="muted">' + esc(p.type_zh || '') +
            (p.pressure_zh ? ' · ' + esc(p.pressure_zh) : '') + (p.voltage_kv ? ' · ' + esc(p.voltage_kv + ' kV') : '') +
            '<br>' + esc(w) + '</span>', { sticky: true });
        }
      });
      if (state.layers.lifelines || was) lifelinesLayer.addTo(map);
    });
  }

  function loadAreas() {
    var list = state.meta.geojson || [];
    if (list.length && list.indexOf('areas') < 0) {
      var box = $('layer-areas');
      box.checked = false; box.disabled = true; box.parentNode.title = t('noPointsLayer');
      return Promise.resolve();
    }
    var seq = ++areasSeq;
    return geojsonForMap('areas').then(function (r) {
      if (seq !== areasSeq || r.crs !== state.crs) return;
      state.areas = r.gj;
      var wasOn = areasLayer && map.hasLayer(areasLayer);
      if (areasLayer) map.removeLayer(areasLayer);
      areasLayer = L.geoJSON(r.gj, {
        coordsToLatLng: r.c2ll, interactive: false, renderer: areasRenderer, pane: 'areas',
        style: function (f) {
          var c = areaColor(f.properties);
          return { color: c, weight: 1, opacity: 0.9, fill: true, fillColor: c, fillOpacity: AREAS_OPACITY };
        }
      });
      if (state.layers.areas || wasOn) areasLayer.addTo(map);
      renderLegend();
    });
  }

  function districtBounds(name) {
    if (!state.districts) return null;
    var f = (state.districts.features || []).filter(function (x) { return x.properties && x.properties.name === name; })[0];
    if (!f) return null;
    var b = L.geoJSON(f, { coordsToLatLng: state.districtsC2ll }).getBounds();
    return b.isValid() ? b : null;
  }

  // ------------------------------------------------------------------ points
  // small dots at city zoom, so the zones under them stay readable
  // (at zoom ≤ 10 a 1 km zone is a few pixels across: dots without outline, red and
  // orange a little larger, the rest barely more than a pixel)
  function pointRadius(z) {
    return Math.max(1.2, Math.min(9, 1.5 + (z - 10) * 0.9));
  }
  function markerRadius(level, z) {
    var r = pointRadius(z);
    if (z <= 10) return level === 'red' ? 2.2 : level === 'orange' ? 1.8 : r;
    return level === 'red' ? r + 1 : r;
  }
  function markerWeight(z) { return z <= 10 ? 0 : 0.8; }
  function markerStroke(z) { return { stroke: z > 10, weight: markerWeight(z) || 0.8 }; }
  // levels to fetch = the level filter ∩ the visible point layers; null = all
  function fetchLevels() {
    var f = state.filters.level ? state.filters.level.split(',') : LEVEL_KEYS.slice();
    var v = f.filter(function (k) { return state.visible[k]; });
    if (v.length === LEVEL_KEYS.length) return null;
    return v;
  }

  var pointTimer = null, pointCtrl = null, pointSeq = 0, pointInflight = 0, pointWaiters = [];
  function pointsBusy() { return pointTimer !== null || pointInflight > 0; }
  function flushPointWaiters() {
    if (pointsBusy()) return;
    var w = pointWaiters; pointWaiters = [];
    w.forEach(function (fn) { fn(); });
  }
  /** Resolves once no point load is scheduled or in flight. */
  function pointsSettled() {
    if (!pointsBusy()) return Promise.resolve(state.points);
    return new Promise(function (res) { pointWaiters.push(function () { res(state.points); }); });
  }
  function schedulePoints(delay) {
    if (pointTimer !== null) clearTimeout(pointTimer);
    if (vec.on) { pointTimer = null; flushPointWaiters(); return; }
    pointTimer = setTimeout(function () {
      pointTimer = null;
      loadPoints().catch(function (e) { reportError('enterprises', e); });
    }, delay == null ? POINT_DEBOUNCE_MS : delay);
  }

  function loadPoints() {
    var seq = ++pointSeq;
    if (pointCtrl) pointCtrl.abort();
    var ctrl = pointCtrl = (typeof AbortController !== 'undefined') ? new AbortController() : null;
    var levels = fetchLevels();
    if (levels && levels.length === 0) {
      drawPoints({ features: [], total: 0 });
      flushPointWaiters();
      return Promise.resolve();
    }
    var b = map.getBounds().pad(0.05);
    var bbox = [Math.max(-180, b.getWest()), Math.max(-85, b.getSouth()), Math.min(180, b.getEast()), Math.min(85, b.getNorth())]
      .map(function (v) { return v.toFixed(6); }).join(',');
    pointInflight++;
    setStatus(t('loadingPoints'));
    return api('/api/enterprises', {
      bbox: bbox,
      level: levels ? levels.join(',') : '',
      industry: state.filters.industry,
      district: state.filters.district,
      limit: POINT_LIMIT,
      crs: crsParam()
    }, ctrl ? ctrl.signal : undefined).then(function (fc) {
      if (seq !== pointSeq) return;        // superseded
      drawPoints(fc);
      state.points.error = null;
      setStatus('');
    }, function (err) {
      if (seq !== pointSeq || (err && err.name === 'AbortError')) return;
      state.points.error = err.message;
      throw err;
    }).then(function () {
      pointInflight--;
      flushPointWaiters();
    }, function (err) {
      pointInflight--;
      flushPointWaiters();
      throw err;
    });
  }

  function drawPoints(fc) {
    var feats = (fc.features || []).filter(function (f) {
      return f && f.geometry && f.geometry.type === 'Point' && Array.isArray(f.geometry.coordinates);
    });
    // low levels first so red is drawn last (on top)
    feats.sort(function (a, b) {
      return (RANK[(a.properties || {}).level] || 0) - (RANK[(b.properties || {}).level] || 0);
    });
    pointsLayer.clearLayers();
    markersById.clear();
    var z = map.getZoom();
    var ids = new Set();
    feats.forEach(function (f) {
      var p = f.properties || {}, c = f.geometry.coordinates;
      var color = p.color || levelColor(p.level);
      var m = L.circleMarker([c[1], c[0]], {
        renderer: pointRenderer,
        radius: markerRadius(p.level, z),
        color: 'rgba(20,20,20,0.65)',
        stroke: markerStroke(z).stroke,
        weight: markerStroke(z).weight,
        fillColor: color,
        fillOpacity: 0.92,
        bubblingMouseEvents: false
      });
      m.feature = f;
      m.on('click', function (e) {
        L.DomEvent.stop(e);
        openCard(p.id, m.getLatLng(), null);
      });
      m.on('mouseover', function () { m.setStyle({ stroke: true, weight: 2, color: '#111' }); showTip(m, p); });
      m.on('mouseout', function () {
        var st = markerStroke(map.getZoom());
        m.setStyle({ stroke: st.stroke, weight: st.weight, color: 'rgba(20,20,20,0.65)' });
        m.closeTooltip();
      });
      pointsLayer.addLayer(m);
      markersById.set(p.id, m);
      ids.add(p.id);
    });
    var total = typeof fc.total === 'number' ? fc.total : feats.length;
    state.points.count = feats.length;
    state.points.total = total;
    state.points.ids = ids;
    state.points.loads++;
    renderPointsNote();
  }
  function showTip(m, p) {
    if (!m.getTooltip()) {
      m.bindTooltip('', { direction: 'top', offset: [0, -4], opacity: 0.95 });
    }
    m.setTooltipContent('<b>' + esc(p.name) + '</b><br>' + esc(levelName(p.level, p.level_zh)) +
      (p.industry ? ' · ' + esc(p.industry) : '') + (p.district ? ' · ' + esc(p.district) : ''));
    m.openTooltip();
  }
  function renderPointsNote() {
    var el = $('points-note');
    if (state.points.total > state.points.count) {
      el.textContent = t('shownFirst', { n: state.points.count, total: state.points.total });
      el.hidden = false;
    } else {
      el.hidden = true;
    }
  }
  map.on('zoomend', function () {
    var z = map.getZoom(), st = markerStroke(z);
    pointsLayer.eachLayer(function (m) {
      var lv = m.feature && m.feature.properties && m.feature.properties.level;
      m.setRadius(markerRadius(lv, z));
      m.setStyle(st);
    });
  });

  // ------------------------------------------------------------------ stats / legend
  var statsSeq = 0;
  function loadStats() {
    var seq = ++statsSeq;
    return api('/api/stats', {
      level: state.filters.level, industry: state.filters.industry, district: state.filters.district
    }).then(function (s) {
      if (seq !== statsSeq) return;
      state.stats = s;
      renderLegend();
    });
  }
  function renderLegend() {
    var s = state.stats, lv = (s && s.levels) || {};
    $('legend').innerHTML = state.levels.map(function (l) {
      var n = lv[l.key] != null ? lv[l.key] : 0;
      return '<li data-level="' + esc(l.key) + '"' + (n ? '' : ' class="zero"') + '>' + swatch(l.key) +
        '<span class="name">' + esc(levelName(l.key, l.zh)) + '</span><span class="count">' + esc(n) + '</span></li>';
    }).join('');
    $('legend-total').textContent = s ? t('total') + ' ' + (s.total != null ? s.total : '') : '';
    // zones: the colour as drawn, over white (the swatch's own background)
    var zl = $('legend-zones');
    zl.classList.toggle('off', !state.layers.surface);
    zl.innerHTML = state.levels.filter(function (l) { return l.key !== 'unassessed'; }).map(function (l) {
      var c = zoneRgba(l.key);
      return '<li data-level="' + esc(l.key) + '"><span class="swatch square zone" data-rgba="' + esc(c) +
        '" style="background:' + esc(c) + '"></span><span class="name">' + esc(levelName(l.key, l.zh)) + '</span></li>';
    }).join('');
    // districts by level: how many districts have each level
    var al = $('legend-areas'), byLevel = {};
    ((state.areas && state.areas.features) || []).forEach(function (f) {
      var k = (f.properties || {}).level;
      if (k) byLevel[k] = (byLevel[k] || 0) + 1;
    });
    $('legend-areas-section').hidden = !state.layers.areas;
    al.innerHTML = state.levels.filter(function (l) { return byLevel[l.key]; }).map(function (l) {
      var c = areaRgba(l.key);
      return '<li data-level="' + esc(l.key) + '"><span class="swatch square" data-rgba="' + esc(c) + '" style="background:' +
        esc(c) + ';border-color:' + esc(levelColor(l.key)) + '"></span><span class="name">' + esc(levelName(l.key, l.zh)) +
        '</span><span class="count">' + esc(byLevel[l.key]) + '</span></li>';
    }).join('');
  }

  // ------------------------------------------------------------------ zone colours as drawn
  // The surface tiles carry each level's colour with the style's alpha (e.g. 153 = 0.6);
  // the legend shows that alpha × the layer's opacity, sampled from the tiles themselves
  // (until a tile has been seen: the style's default 0.6).
  var zoneHist = {};          // level → { alpha: pixels }
  var zoneSampled = 0;
  function hexRgb(hex) {
    var m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})/i.exec(hex || '');
    return m ? [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)] : null;
  }
  function sampleZoneColors(img) {
    if (zoneSampled >= 40 || !img || !img.naturalWidth) return;
    var cv = document.createElement('canvas');
    cv.width = img.naturalWidth; cv.height = img.naturalHeight;
    var ctx = cv.getContext('2d'), data;
    try { ctx.drawImage(img, 0, 0); data = ctx.getImageData(0, 0, cv.width, cv.height).data; } catch (e) { return; }
    var keys = ['red', 'orange', 'yellow', 'blue'], rgb = {}, any = false;
    keys.forEach(function (k) { rgb[k] = hexRgb(levelColor(k)); });
    for (var i = 0; i < data.length; i += 4) {
      var a = data[i + 3];
      if (!a) continue;
      for (var j = 0; j < keys.length; j++) {
        var c = rgb[keys[j]];
        if (c && data[i] === c[0] && data[i + 1] === c[1] && data[i + 2] === c[2]) {
          var h = zoneHist[keys[j]] || (zoneHist[keys[j]] = {});
          h[a] = (h[a] || 0) + 1;
          any = true;
          break;
        }
      }
    }
    if (!any) return;
    zoneSampled++;
    var changed = false;
    keys.forEach(function (k) {
      var h = zoneHist[k];
      if (!h) return;
      // interior pixels carry the full alpha, anti-aliased edges less: take the highest
      // alpha seen on more than a few pixels
      var best = null;
      Object.keys(h).forEach(function (a) { if (h[a] >= 4 && (best === null || Number(a) > Number(best))) best = a; });
      if (best === null) return;
      var c = rgb[k].concat([Number(best) / 255]);
      var old = state.zoneColors[k];
      if (!old || old[3] !== c[3] || old[0] !== c[0]) { state.zoneColors[k] = c; changed = true; }
    });
    if (changed) renderLegend();
  }
  /** The rgba a level's zone is drawn with: tile alpha × layer opacity. */
  function zoneRgba(key) {
    var c = state.zoneColors[key] || (hexRgb(levelColor(key)) || [158, 158, 158]).concat([0.6]);
    var a = Math.round(c[3] * state.zoneOpacity * 1000) / 1000;
    return 'rgba(' + c[0] + ',' + c[1] + ',' + c[2] + ',' + a + ')';
  }
  function areaRgba(key) {
    var c = hexRgb(levelColor(key)) || [158, 158, 158];
    return 'rgba(' + c[0] + ',' + c[1] + ',' + c[2] + ',' + AREAS_OPACITY + ')';
  }

  // ------------------------------------------------------------------ sidebar controls
  function buildPointLayerList() {
    var ul = $('point-layer-list');
    ul.innerHTML = state.levels.map(function (l) {
      return '<li><label><input type="checkbox" id="layer-points-' + esc(l.key) + '" data-level="' + esc(l.key) + '"' +
        (state.visible[l.key] !== false ? ' checked' : '') + '> ' + swatch(l.key) +
        ' <span class="name">' + esc(levelName(l.key, l.zh)) + '</span></label></li>';
    }).join('');
    Array.prototype.forEach.call(ul.querySelectorAll('input[type=checkbox]'), function (box) {
      box.addEventListener('change', function () {
        state.visible[box.getAttribute('data-level')] = box.checked;
        vectorSync();
        schedulePoints(0);
        scheduleHash();
      });
    });
  }
  function fillSelect(sel, options, value) {
    sel.innerHTML = options.map(function (o) {
      return '<option value="' + esc(o[0]) + '"' + (o[0] === value ? ' selected' : '') + '>' + esc(o[1]) + '</option>';
    }).join('');
  }
  function buildFilters() {
    var meta = state.meta;
    var lvOpts = [['', t('allLevels')]].concat(state.levels.map(function (l) { return [l.key, levelName(l.key, l.zh)]; }));
    lvOpts.push(['red,orange', t('redOrange')]);
    fillSelect($('filter-level'), lvOpts, state.filters.level);
    fillSelect($('filter-industry'), [['', t('allIndustries')]].concat((meta.industries || []).map(function (x) { return [x, x]; })), state.filters.industry);
    fillSelect($('filter-district'), [['', t('allDistricts')]].concat((meta.districts || []).map(function (x) { return [x, x]; })), state.filters.district);
  }
  function onFiltersChanged(zoomToDistrict) {
    scheduleHash();
    loadStats().catch(function (e) { reportError('stats', e); });
    vectorSync();
    if (zoomToDistrict && state.filters.district) {
      var b = districtBounds(state.filters.district);
      if (b && vec.on && vec.map) vec.map.fitBounds([[b.getWest(), b.getSouth()], [b.getEast(), b.getNorth()]], { padding: 20 });
      else if (b) map.fitBounds(b, { padding: [20, 20] });   // moveend reschedules the points too
    }
    schedulePoints(0);
  }
  function setupFilters() {
    $('filter-level').addEventListener('change', function (e) { state.filters.level = e.target.value; onFiltersChanged(false); });
    $('filter-industry').addEventListener('change', function (e) { state.filters.industry = e.target.value; onFiltersChanged(false); });
    $('filter-district').addEventListener('change', function (e) { state.filters.district = e.target.value; onFiltersChanged(true); });
    $('filter-reset').addEventListener('click', function () {
      state.filters = { level: '', industry: '', district: '' };
      buildFilters();
      onFiltersChanged(false);
    });
  }

  // ------------------------------------------------------------------ search
  var searchTimer = null, searchSeq = 0, searchItems = [], searchActive = -1;
  function setupSearch() {
    var input = $('search'), list = $('search-results');
    input.addEventListener('input', function () {
      clearTimeout(searchTimer);
      var q = input.value.trim();
      if (!q) { hideSearch(); return; }
      searchTimer = setTimeout(function () { runSearch(q); }, 250);
    });
    input.addEventListener('keydown', function (e) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        if (!searchItems.length) return;
        e.preventDefault();
        searchActive = (searchActive + (e.key === 'ArrowDown' ? 1 : -1) + searchItems.length) % searchItems.length;
        markActive();
      } else if (e.key === 'Enter') {
        e.preventDefault();
        if (searchItems.length) pickSearch(searchActive >= 0 ? searchActive : 0);
        else if (input.value.trim()) { clearTimeout(searchTimer); runSearch(input.value.trim()); }
      } else if (e.key === 'Escape') {
        hideSearch();
      }
    });
    input.addEventListener('focus', function () { if (searchItems.length) list.hidden = false; });
    document.addEventListener('click', function (e) {
      if (!e.target.closest || !e.target.closest('.search-wrap')) list.hidden = true;
    });
    list.addEventListener('click', function (e) {
      var li = e.target.closest('li[data-i]');
      if (li) pickSearch(Number(li.getAttribute('data-i')));
    });
  }
  function hideSearch() { searchItems = []; searchActive = -1; $('search-results').hidden = true; $('search-results').innerHTML = ''; }
  function markActive() {
    Array.prototype.forEach.call($('search-results').querySelectorAll('li[data-i]'), function (li) {
      li.classList.toggle('active', Number(li.getAttribute('data-i')) === searchActive);
    });
  }
  function runSearch(q) {
    var seq = ++searchSeq, list = $('search-results');
    list.innerHTML = '<li class="none">' + esc(t('searching')) + '</li>';
    list.hidden = false;
    api('/api/enterprises', { q: q, limit: 10, crs: crsParam() }).then(function (fc) {
      if (seq !== searchSeq) return;
      searchItems = (fc.features || []).filter(function (f) { return f.geometry && f.geometry.coordinates; });
      searchActive = -1;
      if (!searchItems.length) {
        list.innerHTML = '<li class="none">' + esc(t('noResults')) + '</li>';
        return;
      }
      list.innerHTML = searchItems.map(function (f, i) {
        var p = f.properties || {};
        return '<li data-i="' + i + '" data-id="' + esc(p.id) + '">' + swatch(p.level) + ' ' + esc(p.name) +
          '<span class="sub">' + esc(levelName(p.level, p.level_zh)) + ' · ' + esc(p.district || '') + ' · ' +
          esc(p.credit_code || p.id || '') + '</span></li>';
      }).join('');
    }).catch(function (e) {
      if (seq !== searchSeq) return;
      list.innerHTML = '<li class="none">' + esc(t('error') + e.message) + '</li>';
    });
  }
  function pickSearch(i) {
    var f = searchItems[i];
    if (!f) return;
    var c = f.geometry.coordinates, ll = L.latLng(c[1], c[0]);
    $('search-results').hidden = true;
    flyMap(ll, 15);
    openCard(f.properties.id, ll, null);
  }

  // ------------------------------------------------------------------ panel
  var panelSeq = 0;
  function showPanel() {
    if (document.body.classList.contains('panel-collapsed')) {
      document.body.classList.remove('panel-collapsed');
      map.invalidateSize({ pan: false });
    }
  }
  function setPanel(p) {
    state.panel = p;
    renderPanel();
    showPanel();
    scheduleHash();
  }
  function renderPanel() {
    var p = state.panel || { kind: 'hint' }, body = $('panel-body'), html = '';
    $('panel-back').hidden = !(p.kind === 'card' && p.back);
    if (p.kind === 'hint') html = '<p class="hint">' + esc(t('hint')) + '</p>';
    else if (p.kind === 'loading') html = '<p class="loading">' + esc(t('loading')) + '</p>';
    else if (p.kind === 'error') html = '<div class="error-msg">' + esc(t('error') + p.message) + '</div>';
    else if (p.kind === 'at') html = renderAt(p.data, p.radius) + renderNearby(p.nearest);
    else if (p.kind === 'card') html = renderCard(p.data);
    body.innerHTML = html;
    body.setAttribute('data-kind', p.kind);
    body.scrollTop = 0;
  }

  function miniLevels(levels) {
    if (!levels) return '';
    return '<div class="mini-levels">' + LEVEL_KEYS.filter(function (k) { return levels[k]; }).map(function (k) {
      return '<span title="' + esc(levelName(k)) + '">' + swatch(k) + esc(levels[k]) + '</span>';
    }).join('') + '</div>';
  }
  function coordLine(lon, lat) {
    var wgs, gcj;
    if (state.crs === 'gcj02') { gcj = [lon, lat]; wgs = gcj02ToWgs84(lon, lat); }
    else { wgs = [lon, lat]; gcj = wgs84ToGcj02(lon, lat); }
    return '<div class="coord">WGS84 ' + wgs[0].toFixed(6) + ', ' + wgs[1].toFixed(6) +
      '<br>GCJ-02 ' + gcj[0].toFixed(6) + ', ' + gcj[1].toFixed(6) + '</div>';
  }

  function renderAt(d, radius) {
    var r = radius || RADIUS_M, h = [];
    h.push('<h2>' + esc(t('atTitle')) + '</h2>');
    if (typeof d.lon === 'number' && typeof d.lat === 'number') h.push(coordLine(d.lon, d.lat));
    if (d.empty) h.push('<div class="empty-msg" id="at-empty">' + esc(t('empty', { r: r })) + '</div>');
    h.push('<dl class="kv">');
    h.push('<dt>' + esc(t('surface')) + '</dt><dd>' +
      (d.surface ? badge(d.surface.level, d.surface.level_zh) : esc(t('outsideZone'))) + '</dd>');
    if (d.zone) {
      h.push('<dt>' + esc(t('zone')) + '</dt><dd>' + badge(d.zone.level, d.zone.level_zh) +
        (d.zone.area_km2 != null ? ' · ' + esc(t('areaKm2', { a: fmtNum(d.zone.area_km2, 3) })) : '') + '</dd>');
    }
    if (d.grid) {
      h.push('<dt>' + esc(t('grid')) + '</dt><dd>' + badge(d.grid.level, d.grid.level_zh) +
        ' · ' + esc(t('enterprisesN', { n: d.grid.total != null ? d.grid.total : 0 })) + miniLevels(d.grid.levels) + '</dd>');
    } else {
      h.push('<dt>' + esc(t('grid')) + '</dt><dd>' + esc(t('none')) + '</dd>');
    }
    if (d.district) {
      h.push('<dt>' + esc(t('district')) + '</dt><dd><b>' + esc(d.district.name) + '</b> ' +
        (d.district.level ? badge(d.district.level, d.district.level_zh) : '') +
        ' · ' + esc(t('enterprisesN', { n: d.district.total != null ? d.district.total : 0 })) + miniLevels(d.district.levels) + '</dd>');
    } else {
      h.push('<dt>' + esc(t('district')) + '</dt><dd>' + esc(t('none')) + '</dd>');
    }
    h.push('</dl>');

    // the enterprises that give the zone here its colour
    if (d.zone && Array.isArray(d.zone.made_by)) {
      var mk = d.zone.made_by;
      h.push('<h3>' + esc(t('madeBy', { level: levelName(d.zone.level, d.zone.level_zh), n: mk.length })) + '</h3>');
      if (mk.length) {
        h.push('<ul class="ent-list" id="at-made-by">');
        mk.forEach(function (e, i) {
          h.push('<li tabindex="0" data-mi="' + i + '" data-id="' + esc(e.id) + '">' + swatch(d.zone.level) +
            '<div class="main"><div class="nm">' + esc(e.name) + '</div></div><span class="dist">' + esc(fmtDist(e.distance_m)) + '</span></li>');
        });
        h.push('</ul>');
      } else {
        h.push('<p class="muted">' + esc(t('madeByNone')) + '</p>');
      }
    }

    var ents = d.enterprises || [];
    if (ents.length) {
      h.push('<h3>' + esc(t('entsWithin', { r: r, n: ents.length })) + '</h3><ul class="ent-list" id="at-enterprises">');
      ents.forEach(function (e, i) {
        h.push('<li tabindex="0" data-i="' + i + '" data-id="' + esc(e.id) + '">' + swatch(e.level) +
          '<div class="main"><div class="nm">' + esc(e.name) + '</div><div class="sub">' +
          esc(levelName(e.level, e.level_zh)) + (e.reason_zh ? ' · ' + esc(e.reason_zh) : '') + '</div></div>' +
          '<span class="dist">' + esc(fmtDist(e.distance_m)) + '</span></li>');
      });
      h.push('</ul>');
    } else if (!d.empty) {
      h.push('<h3>' + esc(t('noEnts', { r: r })) + '</h3>');
    }
    var sites = d.sites || [];
    h.push('<h3>' + esc(t('sites', { n: sites.length })) + '</h3>');
    if (sites.length) {
      h.push('<ul class="plain" id="at-sites">');
      sites.forEach(function (s) {
        h.push('<li><span>' + esc(s.name) + '</span><span class="muted">' + esc(s.type || '') +
          (s.level_zh ? ' · ' + esc(s.level_zh) : '') + '</span><span class="dist">' + esc(fmtDist(s.distance_m)) + '</span></li>');
      });
      h.push('</ul>');
    } else {
      h.push('<p class="muted">' + esc(t('noSites')) + '</p>');
    }
    return h.join('');
  }

  // the card's 应急救援 part (#27): own team, agreement, the fire station reaching it,
  // a resource's distance as shown: driving minutes and road distance where routed, else
  // straight-line metres
  function helpDist(r) {
    if (typeof r.minutes === 'number') return t('driveMin', { n: fmtNum(r.minutes, 1) }) + ' · ' + t('roadM', { d: fmtDist(r.road_m) });
    return fmtDist(r.distance_m);
  }
  // the gaps, and the nearest help of each kind (straight line, or by road)
  function renderEmergency(em) {
    if (!em) return '';
    var h = ['<h3>' + esc(t('emergency')) + '</h3><dl class="kv" id="card-emergency">'];
    h.push('<dt>' + esc(t('ownTeam')) + '</dt><dd>' + esc(em.own_team === true ? t('have') : em.own_team === false ? t('haveNot') : t('notGiven')) + '</dd>');
    h.push('<dt>' + esc(t('partner')) + '</dt><dd>' + esc(em.rescue_partner || t('notGiven')) + '</dd>');
    if (em.nearest) {
      h.push('<dt>' + esc(t('fireStation')) + '</dt><dd>' + (em.fire_station
        ? esc(em.fire_station.name) + ' <span class="muted">' + esc(helpDist(em.fire_station)) + '</span>'
        : '<span class="gap">' + esc(t('outsideReach')) + '</span>') + '</dd>');
    }
    h.push('</dl>');
    var gaps = (em.gaps || []).filter(function (g) { return g && g.code !== 'outside_fire_reach'; });
    if (gaps.length) {
      h.push('<ul class="plain warn-list" id="card-gaps">');
      gaps.forEach(function (g) { h.push('<li>' + esc(state.lang === 'en' ? g.code.replace(/_/g, ' ') : g.zh) + '</li>'); });
      h.push('</ul>');
    }
    var groups = (em.nearest || []).filter(function (g) { return g.resources && g.resources.length; });
    if (groups.length) {
      h.push('<h3>' + esc(t(em.method === 'road_network' ? 'nearestHelpRoad' : 'nearestHelp')) + '</h3><table class="tbl" id="card-nearest"><tbody>');
      groups.forEach(function (g) {
        var r = g.resources[0];
        h.push('<tr><td>' + esc(g.type_zh) + '</td><td>' + esc(r.name) + (r.class_zh ? ' <span class="muted">' + esc(r.class_zh) + '</span>' : '') +
          (r.contact ? '<div class="muted">' + esc(r.contact) + '</div>' : '') + '</td><td class="num">' + esc(helpDist(r)) + '</td></tr>');
      });
      h.push('</tbody></table>');
    }
    return h.join('');
  }
  // the card's 临近城市生命线: in a zone, or within the influence radius
  var SEV_ZH = { high: '高报', high_high: '高高报' }, SEV_EN = { high: 'high', high_high: 'high-high' };
  function sevText(s) { return state.lang === 'en' ? (SEV_EN[s] || s) : (SEV_ZH[s] || s); }
  /** The card's banner: the enterprise's active alarms (with the reading that raised
   *  each) and its silent points; a line saying all is well when it has points. */
  function renderAlarmBanner(m) {
    var h = [], act = m.active || [], faults = m.faults || [];
    if (act.length) {
      h.push('<div class="alarm-banner sev-' + esc(act[0].severity) + '" id="card-alarm" role="alert"><strong>⚠ ' + esc(t('alarmBanner')) + '</strong><ul class="plain">');
      act.forEach(function (a) {
        var c = a.cause || {};
        var q = state.lang === 'en' ? a.quantity : a.quantity_zh;
        h.push('<li><b>' + esc(sevText(a.severity)) + '</b> ' + esc(a.name || a.point) + ' · ' + esc(q) + ' ' +
          esc(fmtNum(c.value, 2)) + ' ' + esc(a.unit) + ' ≥ ' + esc(fmtNum(c.threshold, 2)) +
          ' <span class="muted">(' + esc(a.since) + ' ' + esc(t('alarmSince')) + ')</span>' +
          (a.clearing ? ' <span class="muted">' + esc(t('alarmClearing')) + '</span>' : '') + '</li>');
      });
      h.push('</ul></div>');
    }
    if (faults.length) {
      h.push('<div class="alarm-faults" id="card-faults">' + esc(t('faultsN', { n: faults.length, s: fmtNum(m.stale_after_s, 0) })) + '<ul class="plain">');
      faults.forEach(function (f) {
        h.push('<li>' + esc(f.name || f.point) + ' · ' + esc(t('lastSeen')) + ' ' + esc(f.last || t('never')) + '</li>');
      });
      h.push('</ul></div>');
    }
    if (!act.length && !faults.length) h.push('<p class="muted" id="card-monitoring">' + esc(t('monitoringTitle')) + '：' + esc(t('monitoringPoints', { n: m.points })) + '</p>');
    return h.join('');
  }

  // monitoring alarms on the map: a flashing ring on every enterprise in alarm (red for
  // high-high, orange for high), refreshed on each `alarm` event of /api/events
  // SVG, not canvas: the ring's flashing is a CSS animation of its path
  var alarmRenderer = L.svg({ pane: 'highlight' });
  var alarmLayer = L.layerGroup().addTo(map), alarmData = null, alarmTimer = null;
  function loadAlarms() {
    return api('/api/alarms').then(function (d) { alarmData = d; drawAlarms(); return d; })
      .catch(function (e) { console.warn('[riskmap] alarms:', e.message); });
  }
  function drawAlarms() {
    alarmLayer.clearLayers();
    var d = alarmData, by = {};
    if (!d || !d.active) return;
    d.active.forEach(function (a) {
      if (typeof a.lon !== 'number') return;
      var k = a.enterprise, cur = by[k];
      if (!cur || (a.severity === 'high_high' && cur.severity !== 'high_high')) by[k] = a;
    });
    var n = 0;
    Object.keys(by).sort().forEach(function (k) {
      var a = by[k];
      n++;
      var ll = toMapLatLng(a.lon, a.lat);
      var m = L.circleMarker(ll, {
        renderer: alarmRenderer, radius: 14, color: a.severity === 'high_high' ? '#d7191c' : '#f28e2b', weight: 3, fill: false,
        className: 'alarm-ring sev-' + a.severity, interactive: true
      }).addTo(alarmLayer);
      m.on('click', function () { openCard(k, ll); });
      m.bindTooltip((a.enterprise_name || k) + ' · ' + sevText(a.severity));
    });
    document.body.setAttribute('data-alarms', String(n));
  }
  function scheduleAlarms(ev) {
    clearTimeout(alarmTimer);
    alarmTimer = setTimeout(function () {
      loadAlarms().then(function () {
        // the open card of the enterprise the event is about shows the new state
        var p = state.panel;
        if (ev && p && p.kind === 'card' && p.data && p.data.id === ev.enterprise) {
          api('/api/enterprises/' + encodeURIComponent(ev.enterprise)).then(function (d) {
            if (state.panel === p) setPanel({ kind: 'card', data: d, back: p.back || null });
          }).catch(function () { /* the card stays as it was */ });
        }
      });
    }, 150);
  }

  function renderLifelines(ls) {
    if (!ls || !ls.length) return '';
    var h = ['<h3>' + esc(t('lifelinesTitle')) + '</h3><table class="tbl" id="card-lifelines"><tbody>'];
    ls.forEach(function (l) {
      var rel = state.lang === 'en' ? l.relation.replace(/_/g, ' ') : l.relation_zh;
      h.push('<tr><td>' + esc(l.type_zh) + '</td><td>' + esc(l.name || l.id) + '<div class="' + (l.in_protection ? 'gap' : 'muted') + '">' +
        esc(rel) + '</div></td><td class="num">' + esc(fmtDist(l.distance_m)) + '</td></tr>');
    });
    h.push('</tbody></table>');
    return h.join('');
  }
  // the click panel's 附近应急资源: one of each kind, nearest first
  function renderNearby(nr) {
    if (!nr || !nr.kinds || !nr.kinds.length) return '';
    var rows = [];
    nr.kinds.forEach(function (k) { (k.resources || []).slice(0, 1).forEach(function (r) { rows.push({ k: k, r: r }); }); });
    var road = nr.method === 'road_network';
    rows.sort(function (a, b) { return road ? a.r.minutes - b.r.minutes : a.r.distance_m - b.r.distance_m; });
    var h = ['<h3>' + esc(t(road ? 'nearbyHelpRoad' : 'nearbyHelp')) + '</h3><ul class="plain" id="at-nearest">'];
    rows.forEach(function (x) {
      h.push('<li><span>' + esc(x.r.name) + '</span><span class="muted">' + esc(x.k.type_zh) + '</span><span class="dist">' +
        esc(helpDist(x.r)) + '</span></li>');
    });
    h.push('</ul>');
    return h.join('');
  }
  function hasResources() { return !!(state.meta && (state.meta.geojson || []).indexOf('resources') >= 0); }
  // dashed lines from the clicked point to the help listed: along the roads it drives
  // (the answer's path) by road, straight otherwise
  function drawNearbyLines(ll, nr) {
    if (!nr || !nr.kinds) return;
    nr.kinds.forEach(function (k) {
      (k.resources || []).slice(0, 1).forEach(function (r) {
        if (typeof r.lon !== 'number') return;
        var way = Array.isArray(r.path) && r.path.length >= 2
          ? r.path.map(function (c) { return L.latLng(c[1], c[0]); })
          : [ll, L.latLng(r.lat, r.lon)];
        L.polyline(way, { renderer: hlRenderer, color: '#c62828', weight: 1.5, dashArray: '5 4',
          opacity: 0.85, interactive: false }).addTo(highlightLayer);
        L.circleMarker(L.latLng(r.lat, r.lon), { renderer: hlRenderer, radius: 5, color: '#c62828', weight: 2, fillColor: '#fff',
          fillOpacity: 1, interactive: false }).addTo(highlightLayer);
      });
    });
  }

  function kvRow(label, value) {
    if (value === undefined || value === null || value === '') return '';
    return '<dt>' + esc(label) + '</dt><dd>' + esc(value) + '</dd>';
  }
  function pick(pair) { return pair ? pair[state.lang === 'en' ? 1 : 0] : ''; }
  function ruleText(code) { return RULE_TEXT[code] ? pick(RULE_TEXT[code]) : ''; }
  function methodText(m) { return METHOD_TEXT[m] ? pick(METHOD_TEXT[m]) : (m || ''); }
  // data notes (warnings) are written by the grader in English; say them in Chinese
  function warningText(w) {
    w = String(w);
    if (state.lang === 'en') return w;
    var m;
    if ((m = /^credit code `([^`]*)` check character is `([^`]*)`, expected `([^`]*)`$/.exec(w))) {
      return '统一社会信用代码 ' + m[1] + ' 的校验位为 ' + m[2] + '，按国家标准应为 ' + m[3] + '，请核对';
    }
    if ((m = /^stated district `([^`]*)` but the location is in (.+)$/.exec(w))) {
      return '名录填报的区县为' + m[1] + '，但坐标位于' + m[2] + '，请核对';
    }
    if ((m = /^([\d.]+) m outside the district boundaries; assigned to the nearest$/.exec(w))) {
      return '坐标在区县边界外 ' + m[1] + ' 米，已归入最近的区县';
    }
    // Chinese first, English in brackets: keep the Chinese
    if (/[\u4e00-\u9fff]/.test(w)) w = w.replace(/\s*\((?=[^()]*[A-Za-z]{3})[^()]*\)\s*$/, '');
    return w.replace(/`([^`]*)`/g, '「$1」');
  }
  function hasCjk(s) { return /[\u4e00-\u9fff]/.test(String(s)); }
  function renderCard(d) {
    var h = [], en = state.lang === 'en';
    h.push('<h2 class="card-name">' + esc(d.name) + '</h2>');
    if (d.monitoring) h.push(renderAlarmBanner(d.monitoring));
    h.push('<p>' + badge(d.level, d.level_zh, 'card-level') + '</p>');
    var reason = en ? (d.reason || d.reason_zh) : (d.reason_zh || d.reason);
    h.push('<dl class="kv" id="card-fields">');
    h.push(kvRow(t('reason'), reason));
    h.push(kvRow(t('rule'), ruleText(d.rule)));
    h.push(kvRow(t('tier'), d.tier_zh));
    h.push(kvRow(t('district'), d.district));
    h.push(kvRow(t('industry'), d.industry));
    h.push(kvRow(t('creditCode'), d.credit_code));
    h.push(kvRow(t('entId'), d.id));
    h.push(kvRow(t('majorHazard'), d.major_hazard === true ? t('yes') : d.major_hazard === false ? t('no') : d.major_hazard));
    h.push(kvRow(t('employees'), d.employees));
    if (typeof d.open_hidden_dangers === 'number') {
      h.push(kvRow(t('openHazards'), t('itemsN', { n: d.open_hidden_dangers }) +
        (d.open_major_hidden_dangers ? '（' + t('openMajorHazards') + ' ' + t('itemsN', { n: d.open_major_hidden_dangers }) + '）' : '')));
    }
    if (typeof d.radius_m === 'number') h.push(kvRow(t('influence'), t('metresN', { n: fmtNum(d.radius_m, 0) })));
    h.push('</dl>');
    if (typeof d.lon === 'number' && typeof d.lat === 'number') {
      var g = wgs84ToGcj02(d.lon, d.lat);
      h.push('<div class="coord">WGS84 ' + d.lon.toFixed(6) + ', ' + d.lat.toFixed(6) +
        '<br>GCJ-02 ' + g[0].toFixed(6) + ', ' + g[1].toFixed(6) + '</div>');
    }
    var warns = Array.isArray(d.warnings) ? d.warnings : (d.warnings ? String(d.warnings).split(/;\s*/) : []);
    warns = warns.filter(function (w) { return w; });
    if (warns.length) {
      h.push('<h3>' + esc(t('warnings')) + '</h3><ul class="plain warn-list" id="card-warnings">');
      warns.forEach(function (w) { h.push('<li>' + esc(warningText(w)) + '</li>'); });
      h.push('</ul>');
    }

    var rps = d.risk_points || [];
    h.push('<h3>' + esc(t('riskPoints', { n: rps.length })) + '</h3>');
    if (rps.length) {
      h.push('<table class="tbl" id="card-risk-points"><thead><tr><th>' + esc(t('rpName')) + '</th><th>' + esc(t('method')) +
        '</th><th>' + esc(t('score')) + '</th><th>' + esc(t('level')) + '</th></tr></thead><tbody>');
      rps.forEach(function (r) {
        var score = r.score == null ? '' : (r.score_symbol ? r.score_symbol + '=' : '') + fmtNum(r.score, 2);
        h.push('<tr><td>' + esc(r.name) + '</td><td>' + esc(methodText(r.method)) + '</td><td class="num">' + esc(score) +
          '</td><td>' + (r.level ? swatch(r.level) + ' ' : '') + esc(r.level ? levelName(r.level, r.level_zh) : (r.level_zh || '')) + '</td></tr>');
      });
      h.push('</tbody></table>');
    } else {
      h.push('<p class="muted">' + esc(t('noRows')) + '</p>');
    }

    var hds = d.hidden_dangers || [];
    h.push('<h3>' + esc(t('hiddenDangers', { n: hds.length })) + '</h3>');
    if (hds.length) {
      h.push('<table class="tbl" id="card-hidden-dangers"><thead><tr><th>' + esc(t('hdId')) + '</th><th>' + esc(t('grade')) +
        '</th><th>' + esc(t('status')) + '</th><th>' + esc(t('desc')) + '</th></tr></thead><tbody>');
      hds.forEach(function (x) {
        h.push('<tr' + (x.open ? ' class="open"' : '') + '><td>' + esc(x.id) + '</td><td>' + esc(x.grade) + '</td><td>' +
          esc(x.status) + '</td><td>' + esc(x.description) + '</td></tr>');
      });
      h.push('</tbody></table>');
    } else {
      h.push('<p class="muted">' + esc(t('noRows')) + '</p>');
    }

    h.push(renderEmergency(d.emergency));
    h.push(renderLifelines(d.lifelines));

    // the register's own extra columns, under their own (Chinese) headers; fields the API
    // adds that the card has no words for are left out rather than shown by code name
    var extra = [];
    if (d.extra && typeof d.extra === 'object') {
      Object.keys(d.extra).forEach(function (k) { extra.push([k, d.extra[k]]); });
    }
    extra = extra.filter(function (kv) {
      return kv[1] !== null && kv[1] !== undefined && kv[1] !== '' && typeof kv[1] !== 'object' && (en || hasCjk(kv[0]) || !/_/.test(kv[0]));
    });
    if (extra.length) {
      h.push('<h3>' + esc(t('extra')) + '</h3><dl class="kv" id="card-extra">');
      extra.forEach(function (kv) { h.push(kvRow(kv[0], kv[1])); });
      h.push('</dl>');
    }
    return h.join('');
  }

  function highlightPoint(ll, level) {
    highlightLayer.clearLayers();
    vectorHighlight(ll, 'enterprise');
    if (!ll) return;
    L.circleMarker(ll, {
      renderer: hlRenderer, radius: pointRadius(map.getZoom()) + 7, color: '#111', weight: 2.5,
      fill: false, interactive: false
    }).addTo(highlightLayer);
    L.circleMarker(ll, {
      renderer: hlRenderer, radius: pointRadius(map.getZoom()) + 4, color: levelColor(level || 'unassessed'), weight: 2,
      fill: false, interactive: false
    }).addTo(highlightLayer);
  }

  /** Open an enterprise card; `ll` is its position in map coordinates (optional). */
  function openCard(id, ll, back) {
    var seq = ++panelSeq;
    if (ll) highlightPoint(ll, markersById.has(id) ? markersById.get(id).feature.properties.level : null);
    setPanel({ kind: 'loading' });
    return api('/api/enterprises/' + encodeURIComponent(id)).then(function (d) {
      if (seq !== panelSeq) return;
      if (!ll && typeof d.lon === 'number') highlightPoint(toMapLatLng(d.lon, d.lat), d.level);
      else if (ll) highlightPoint(ll, d.level);
      setPanel({ kind: 'card', data: d, back: back || null });
    }).catch(function (e) {
      if (seq !== panelSeq) return;
      setPanel({ kind: 'error', message: e.message });
    });
  }

  /** Query what is at a map position (map coordinates). */
  function queryAt(ll) {
    var seq = ++panelSeq;
    highlightLayer.clearLayers();
    vectorHighlight(ll, 'at');
    L.circle(ll, { renderer: hlRenderer, radius: RADIUS_M, color: '#1d5fa8', weight: 1.5, dashArray: '4 3',
      fillColor: '#1d5fa8', fillOpacity: 0.06, interactive: false }).addTo(highlightLayer);
    L.circleMarker(ll, { renderer: hlRenderer, radius: 3, color: '#1d5fa8', weight: 2, fillColor: '#fff',
      fillOpacity: 1, interactive: false }).addTo(highlightLayer);
    setPanel({ kind: 'loading' });
    var near = hasResources()
      ? api('/api/nearest', { lon: ll.lng.toFixed(7), lat: ll.lat.toFixed(7), n: 1, crs: crsParam() }).catch(function (e) {
          console.warn('[riskmap] nearest:', e.message); return null;
        })
      : Promise.resolve(null);
    return Promise.all([api('/api/at', { lon: ll.lng.toFixed(7), lat: ll.lat.toFixed(7), radius: RADIUS_M, crs: crsParam() }), near]).then(function (both) {
      var d = both[0];
      if (seq !== panelSeq) return;
      drawNearbyLines(ll, both[1]);
      setPanel({ kind: 'at', data: d, radius: RADIUS_M, latlng: ll, nearest: both[1] });
    }).catch(function (e) {
      if (seq !== panelSeq) return;
      setPanel({ kind: 'error', message: e.message });
    });
  }

  function setupPanel() {
    $('panel-body').addEventListener('click', function (e) {
      var mli = e.target.closest('#at-made-by li[data-mi]');
      if (mli && state.panel && state.panel.kind === 'at') {
        openCard(mli.getAttribute('data-id'), null, state.panel);
        return;
      }
      var li = e.target.closest('#at-enterprises li[data-i]');
      if (!li || !state.panel || state.panel.kind !== 'at') return;
      var ent = (state.panel.data.enterprises || [])[Number(li.getAttribute('data-i'))];
      if (!ent) return;
      var ll = (typeof ent.lat === 'number' && typeof ent.lon === 'number') ? L.latLng(ent.lat, ent.lon) : null;
      openCard(ent.id, ll, state.panel);
    });
    $('panel-body').addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && e.target.matches && e.target.matches('#at-enterprises li[data-i], #at-made-by li[data-mi]')) e.target.click();
    });
    $('panel-back').addEventListener('click', function () {
      if (state.panel && state.panel.back) {
        var back = state.panel.back;
        panelSeq++;
        setPanel(back);
        if (back.latlng) {
          highlightLayer.clearLayers();
          L.circle(back.latlng, { renderer: hlRenderer, radius: back.radius || RADIUS_M, color: '#1d5fa8', weight: 1.5,
            dashArray: '4 3', fillColor: '#1d5fa8', fillOpacity: 0.06, interactive: false }).addTo(highlightLayer);
        }
      }
    });
    $('panel-close').addEventListener('click', function () {
      document.body.classList.add('panel-collapsed');
      highlightLayer.clearLayers();
      map.invalidateSize({ pan: false });
      scheduleHash();
    });
    map.on('click', function (e) { queryAt(e.latlng); });
  }

  // ------------------------------------------------------------------ the view in the URL hash
  // #z=12&c=36.65000,117.02000&b=天地图矢量&l=surface,districts&lv=red&ind=…&dist=…&pts=red,orange&op=80&e=ID
  // The centre is always WGS84 (whatever basemap the map is on), so a link works for anyone.
  var LAYER_KEYS = ['surface', 'grid', 'districts', 'areas', 'resources', 'reach', 'lifelines'];
  var hashTimer = null, lastHash = null;
  function parseHash(h) {
    var o = {};
    String(h || '').replace(/^#/, '').split('&').forEach(function (kv) {
      if (!kv) return;
      var i = kv.indexOf('=');
      var k = i < 0 ? kv : kv.slice(0, i), v = i < 0 ? '' : kv.slice(i + 1);
      try { o[decodeURIComponent(k)] = decodeURIComponent(v.replace(/\+/g, ' ')); } catch (e) { /* bad escape */ }
    });
    var out = {};
    var z = Number(o.z);
    if (o.z != null && isFinite(z)) out.zoom = z;
    var c = String(o.c || '').split(',').map(Number);
    if (c.length === 2 && isFinite(c[0]) && isFinite(c[1]) && Math.abs(c[0]) <= 90 && Math.abs(c[1]) <= 180) out.center = { lat: c[0], lon: c[1] };
    if (o.b != null) out.basemap = o.b;
    if (o.l != null) {
      out.layers = {};
      var on = o.l.split(',');
      LAYER_KEYS.forEach(function (k) { out.layers[k] = on.indexOf(k) >= 0; });
    }
    if (o.lv != null || o.ind != null || o.dist != null) {
      out.filters = { level: o.lv || '', industry: o.ind || '', district: o.dist || '' };
    }
    if (o.pts != null) {
      var vis = o.pts.split(',');
      out.visible = {};
      LEVEL_KEYS.forEach(function (k) { out.visible[k] = vis.indexOf(k) >= 0; });
    }
    var op = Number(o.op);
    if (o.op != null && isFinite(op) && op >= 10 && op <= 100) out.zoneOpacity = op / 100;
    if (o.e) out.enterprise = o.e;
    if (o.m != null) out.vector = o.m === 'v';
    if (o.cb != null) out.colorblind = o.cb === '1';
    return out;
  }
  function viewHash() {
    var c = map.getCenter(), z = map.getZoom();
    var w = state.crs === 'gcj02' ? gcj02ToWgs84(c.lng, c.lat) : [c.lng, c.lat];
    var p = ['z=' + z, 'c=' + w[1].toFixed(5) + ',' + w[0].toFixed(5)];
    if (state.basemaps.length) p.push('b=' + (state.basemap >= 0 ? encodeURIComponent(state.basemaps[state.basemap].name) : '-'));
    p.push('l=' + LAYER_KEYS.filter(function (k) { return state.layers[k]; }).join(','));
    if (state.filters.level) p.push('lv=' + encodeURIComponent(state.filters.level));
    if (state.filters.industry) p.push('ind=' + encodeURIComponent(state.filters.industry));
    if (state.filters.district) p.push('dist=' + encodeURIComponent(state.filters.district));
    var vis = LEVEL_KEYS.filter(function (k) { return state.visible[k] !== false; });
    if (vis.length !== LEVEL_KEYS.length) p.push('pts=' + vis.join(','));
    if (state.zoneOpacity !== ZONE_OPACITY) p.push('op=' + Math.round(state.zoneOpacity * 100));
    if (vec.on) p.push('m=v');
    if (vec.styleName === 'style_colorblind') p.push('cb=1');
    if (state.panel && state.panel.kind === 'card' && state.panel.data && state.panel.data.id &&
        !document.body.classList.contains('panel-collapsed')) {
      p.push('e=' + encodeURIComponent(state.panel.data.id));
    }
    return p.join('&');
  }
  function writeHash() {
    hashTimer = null;
    if (!state.started) return;
    var h = viewHash();
    if (h === lastHash && location.hash === '#' + h) return;
    lastHash = h;
    try { history.replaceState(history.state, '', '#' + h); } catch (e) { location.hash = h; }
  }
  function scheduleHash() {
    if (!state.started) return;
    if (hashTimer !== null) clearTimeout(hashTimer);
    hashTimer = setTimeout(writeHash, 150);
  }
  function basemapIndexByName(name) {
    if (name === '-' || name === '') return -1;
    for (var i = 0; i < state.basemaps.length; i++) if (state.basemaps[i].name === name) return i;
    var n = Number(name);
    return (isFinite(n) && n >= 0 && n < state.basemaps.length) ? n : null;
  }
  /** Put a parsed hash into `state` (before start-up, or before applyHashToMap). */
  function hashToState(hs) {
    if (hs.layers) LAYER_KEYS.forEach(function (k) { state.layers[k] = hs.layers[k]; });
    if (hs.filters) state.filters = hs.filters;
    if (hs.visible) state.visible = hs.visible;
    if (hs.zoneOpacity != null) state.zoneOpacity = hs.zoneOpacity;
    if (hs.colorblind != null) vec.styleName = hs.colorblind ? 'style_colorblind' : 'style';
    if (hs.basemap != null) {
      var i = basemapIndexByName(hs.basemap);
      if (i !== null) state.basemap = i;
    }
  }
  // a hash pasted into the address bar of an open viewer
  function onHashChange() {
    if (!state.started || location.hash === '#' + lastHash) return;
    var hs = parseHash(location.hash);
    var before = { filters: JSON.stringify(state.filters), visible: JSON.stringify(state.visible), basemap: state.basemap };
    hashToState(hs);
    if (state.basemap !== before.basemap) { var i = state.basemap; state.basemap = before.basemap; setBasemap(i); }
    LAYER_KEYS.forEach(function (k) { setLayerVisible(k, state.layers[k]); });
    $('zone-opacity').value = String(Math.round(state.zoneOpacity * 100));
    if (tileLayers.surface) tileLayers.surface.setOpacity(state.zoneOpacity);
    buildFilters();
    buildPointLayerList();
    if (before.filters !== JSON.stringify(state.filters) || before.visible !== JSON.stringify(state.visible)) onFiltersChanged(false);
    if (hs.center) map.setView(toMapLatLng(hs.center.lon, hs.center.lat), hs.zoom != null ? hs.zoom : map.getZoom(), { animate: false });
    else if (hs.zoom != null) map.setZoom(hs.zoom, { animate: false });
    if (hs.enterprise) openCard(hs.enterprise, null, null);
    if (hs.vector != null && hs.vector !== vec.on) setVectorMode(hs.vector);
    else if (vec.on && vec.map) { var vc = map.getCenter(); vec.map.jumpTo({ center: [vc.lng, vc.lat], zoom: map.getZoom() - 1 }); vectorSync(); }
    renderLegend();
    scheduleHash();
  }
  window.addEventListener('hashchange', onHashChange);

  // ------------------------------------------------------------------ export / print
  // The current view drawn onto one canvas: tiles (same-origin ones; a basemap service
  // that does not allow reading its pixels is left out and said so), the vector canvases,
  // district names, then a title band and a legend band.
  function paneOrder(el) {
    var z = parseInt(el.style.zIndex || window.getComputedStyle(el).zIndex, 10);
    return isFinite(z) ? z : 0;
  }
  function readable(img) {
    try {
      var c = document.createElement('canvas'); c.width = c.height = 1;
      var x = c.getContext('2d'); x.drawImage(img, 0, 0, 1, 1); x.getImageData(0, 0, 1, 1);
      return true;
    } catch (e) { return false; }
  }
  function drawMapInto(ctx, ox, oy, info) {
    var root = map.getContainer(), mr = root.getBoundingClientRect();
    if (vec.on && vec.map) {
      // the vector map is one WebGL canvas (kept readable: preserveDrawingBuffer)
      ctx.drawImage(vec.map.getCanvas(), ox, oy, mr.width, mr.height);
      info.canvases++;
      return;
    }
    var panes = Array.prototype.slice.call(map.getPane('mapPane').querySelectorAll('.leaflet-pane'))
      .filter(function (p) { return !/leaflet-(tooltip|popup|shadow)-pane/.test(p.className); });
    // nested panes (custom panes live inside mapPane) in stacking order
    panes.sort(function (a, b) { return paneOrder(a) - paneOrder(b); });
    panes.forEach(function (pane) {
      if (window.getComputedStyle(pane).display === 'none') return;
      var layers = Array.prototype.slice.call(pane.children).filter(function (c) { return /leaflet-layer/.test(c.className); });
      layers.sort(function (a, b) { return paneOrder(a) - paneOrder(b); });
      layers.forEach(function (layerEl) {
        var alpha = Number(window.getComputedStyle(layerEl).opacity);
        var imgs = Array.prototype.slice.call(layerEl.querySelectorAll('img.leaflet-tile-loaded'));
        if (!imgs.length) return;
        if (!readable(imgs[0])) { info.skipped++; return; }
        var levels = Array.prototype.slice.call(layerEl.querySelectorAll('.leaflet-tile-container'));
        levels.sort(function (a, b) { return paneOrder(a) - paneOrder(b); });
        levels.forEach(function (lv) {
          Array.prototype.forEach.call(lv.querySelectorAll('img.leaflet-tile-loaded'), function (img) {
            var r = img.getBoundingClientRect();
            if (r.right < mr.left || r.left > mr.right || r.bottom < mr.top || r.top > mr.bottom) return;
            ctx.globalAlpha = (isFinite(alpha) ? alpha : 1);
            try { ctx.drawImage(img, ox + r.left - mr.left, oy + r.top - mr.top, r.width, r.height); info.tiles++; } catch (e) { /* skip */ }
          });
        });
        ctx.globalAlpha = 1;
      });
      Array.prototype.forEach.call(pane.querySelectorAll(':scope > canvas'), function (cv) {
        var r = cv.getBoundingClientRect();
        if (!r.width || !r.height) return;
        ctx.drawImage(cv, ox + r.left - mr.left, oy + r.top - mr.top, r.width, r.height);
        info.canvases++;
      });
      var labels = pane.querySelectorAll('.district-label');
      if (labels.length) {
        ctx.font = '600 12px ' + window.getComputedStyle(document.body).fontFamily;
        ctx.textAlign = 'center'; ctx.textBaseline = 'middle';
        Array.prototype.forEach.call(labels, function (el) {
          var r = el.getBoundingClientRect(), x = ox + r.left - mr.left + r.width / 2, y = oy + r.top - mr.top + r.height / 2;
          ctx.lineWidth = 3; ctx.strokeStyle = 'rgba(255,255,255,0.95)'; ctx.strokeText(el.textContent, x, y);
          ctx.fillStyle = '#2b3947'; ctx.fillText(el.textContent, x, y);
        });
      }
    });
  }
  function niceScale(size) {
    var c = map.getCenter(), p = map.latLngToContainerPoint(c);
    var mPerPx = map.distance(c, map.containerPointToLatLng([p.x + 100, p.y])) / 100;
    var target = mPerPx * size.x * 0.18, pow = Math.pow(10, Math.floor(Math.log10(target))), n = pow;
    [1, 2, 5, 10].forEach(function (k) { if (k * pow <= target) n = k * pow; });
    return { metres: n, px: n / mPerPx, label: n >= 1000 ? (n / 1000) + ' km' : n + ' m' };
  }
  /** Render the current view to a PNG; resolves { dataUrl, width, height, skipped }. */
  function exportPng() {
    var size = map.getSize(), dpr = Math.min(2, window.devicePixelRatio || 1);
    var head = 44, foot = 52, W = size.x, H = size.y + head + foot;
    var cv = document.createElement('canvas');
    cv.width = Math.round(W * dpr); cv.height = Math.round(H * dpr);
    var ctx = cv.getContext('2d');
    ctx.scale(dpr, dpr);
    var font = window.getComputedStyle(document.body).fontFamily;
    ctx.fillStyle = '#ffffff'; ctx.fillRect(0, 0, W, H);
    ctx.fillStyle = window.getComputedStyle(map.getContainer()).backgroundColor || '#e6ebf0';
    ctx.fillRect(0, head, W, size.y);
    ctx.save();
    ctx.beginPath(); ctx.rect(0, head, W, size.y); ctx.clip();
    var info = { tiles: 0, canvases: 0, skipped: 0 };
    drawMapInto(ctx, 0, head, info);
    ctx.restore();
    ctx.strokeStyle = '#9aa5b1'; ctx.lineWidth = 1; ctx.strokeRect(0.5, head + 0.5, W - 1, size.y - 1);
    // title band
    ctx.fillStyle = '#1b2a3a'; ctx.fillRect(0, 0, W, head);
    ctx.fillStyle = '#c62828'; ctx.fillRect(0, head - 3, W, 3);
    ctx.fillStyle = '#fff'; ctx.textAlign = 'left'; ctx.textBaseline = 'middle';
    ctx.font = '600 18px ' + font;
    ctx.fillText($('title').textContent, 14, head / 2 - 1);
    ctx.font = '12px ' + font; ctx.textAlign = 'right'; ctx.fillStyle = '#b7c3cf';
    var now = new Date(), pad = function (n) { return (n < 10 ? '0' : '') + n; };
    ctx.fillText((state.meta && state.meta.data_date ? t('dataDate') + state.meta.data_date + '　' : '') + t('exportedAt') + ' ' +
      now.getFullYear() + '-' + pad(now.getMonth() + 1) + '-' + pad(now.getDate()) + ' ' + pad(now.getHours()) + ':' + pad(now.getMinutes()), W - 14, head / 2 - 1);
    // legend band: zones as drawn, districts by level, points; scale bar
    var y0 = head + size.y, x = 14, cy = y0 + 18;
    ctx.textAlign = 'left'; ctx.textBaseline = 'middle'; ctx.font = '12px ' + font;
    function text(s, bold) { ctx.font = (bold ? '600 ' : '') + '12px ' + font; ctx.fillStyle = '#1f2933'; ctx.fillText(s, x, cy); x += ctx.measureText(s).width + 8; }
    function square(fill, stroke) {
      ctx.fillStyle = '#fff'; ctx.fillRect(x, cy - 6, 18, 12);
      ctx.fillStyle = fill; ctx.fillRect(x, cy - 6, 18, 12);
      ctx.strokeStyle = stroke || 'rgba(0,0,0,.35)'; ctx.lineWidth = 1; ctx.strokeRect(x + 0.5, cy - 5.5, 17, 11); x += 24;
    }
    var zoneLevels = state.levels.filter(function (l) { return l.key !== 'unassessed'; });
    if (state.layers.surface && tileLayers.surface) {
      text(t('layerSurface') + '：', true);
      zoneLevels.forEach(function (l) { square(zoneRgba(l.key)); text(levelName(l.key, l.zh)); });
      x += 8;
    }
    if (state.layers.areas && state.areas) {
      text(t('legendAreas').replace(/（.*$/, '') + '：', true);
      var seen = {};
      (state.areas.features || []).forEach(function (f) { seen[(f.properties || {}).level] = true; });
      state.levels.forEach(function (l) { if (seen[l.key]) { square(areaRgba(l.key), levelColor(l.key)); text(levelName(l.key, l.zh)); } });
      x += 8;
    }
    x = 14; cy = y0 + 38;
    text(t('layerPoints') + '：', true);
    state.levels.forEach(function (l) {
      if (state.visible[l.key] === false) return;
      ctx.beginPath(); ctx.arc(x + 5, cy, 4.5, 0, 2 * Math.PI); ctx.fillStyle = levelColor(l.key); ctx.fill();
      ctx.strokeStyle = 'rgba(20,20,20,.65)'; ctx.lineWidth = 0.8; ctx.stroke(); x += 14;
      text(levelName(l.key, l.zh));
    });
    var f = [];
    if (state.filters.district) f.push(state.filters.district);
    if (state.filters.industry) f.push(state.filters.industry);
    if (state.filters.level) f.push(state.filters.level.split(',').map(function (k) { return levelName(k); }).join('、'));
    if (f.length) text('（' + t('filters') + '：' + f.join('，') + '）');
    var sc = niceScale(size), sx = W - 14 - sc.px;
    ctx.strokeStyle = '#1f2933'; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.moveTo(sx, cy - 4); ctx.lineTo(sx, cy + 2); ctx.lineTo(sx + sc.px, cy + 2); ctx.lineTo(sx + sc.px, cy - 4); ctx.stroke();
    ctx.textAlign = 'center'; ctx.fillStyle = '#1f2933'; ctx.font = '12px ' + font; ctx.fillText(sc.label, sx + sc.px / 2, cy - 10);
    ctx.textAlign = 'right'; ctx.fillStyle = '#6b7785'; ctx.font = '11px ' + font;
    var choice = state.basemap >= 0 ? state.basemaps[state.basemap] : null;
    ctx.fillText((choice ? t('basemap') + '：' + choice.name + (info.skipped ? '（' + t('exportNoBasemap') + '）' : '') + '　' : '') +
      (state.crs === 'gcj02' ? 'GCJ-02' : 'WGS84'), W - 14, y0 + 18);
    var dataUrl = cv.toDataURL('image/png');
    state.lastExport = { width: cv.width, height: cv.height, tiles: info.tiles, canvases: info.canvases, skipped: info.skipped };
    return Promise.resolve({ dataUrl: dataUrl, width: cv.width, height: cv.height, skipped: info.skipped, tiles: info.tiles });
  }
  function exportFileName() {
    var title = ($('title').textContent || 'riskmap').replace(/[\\/:*?"<>|\s]+/g, '');
    var d = new Date(), pad = function (n) { return (n < 10 ? '0' : '') + n; };
    return title + '_' + d.getFullYear() + pad(d.getMonth() + 1) + pad(d.getDate()) + '_' + pad(d.getHours()) + pad(d.getMinutes()) + '.png';
  }
  function downloadPng() {
    setStatus(t('exporting'));
    return exportPng().then(function (r) {
      var a = document.createElement('a');
      a.href = r.dataUrl;
      a.download = exportFileName();
      document.body.appendChild(a);
      a.click();
      setTimeout(function () { a.remove(); }, 0);
      setStatus(r.skipped ? t('exportNoBasemap') : t('exported'), !!r.skipped);
      return r;
    }).catch(function (e) { reportError('export', e); });
  }
  function printView() {
    return exportPng().then(function (r) {
      var img = $('print-image');
      img.onload = function () { img.onload = null; window.print(); };
      img.src = r.dataUrl;
    }).catch(function (e) { reportError('print', e); });
  }
  function copyLink() {
    writeHash();
    var url = location.href;
    var done = function () { setStatus(t('linkCopied')); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(url).then(done, function () { window.prompt(t('copyLink'), url); });
    } else {
      window.prompt(t('copyLink'), url);
    }
  }

  // ------------------------------------------------------------------ live map (#22)
  // The server follows its output folder and switches each new generation in whole; it
  // says so on /api/events (Server-Sent Events, `event: generation`, data = the change
  // record). Here: the tile layers are fetched again with the new ?g=, the counts, the
  // district levels, the points and the open card are read again, and the record's items
  // go on top of 最近变化. On every (re)connect /api/changes?since=<last seen> fills in what
  // was missed while the connection was down.
  function generationNumber(g) {
    return /^\d+$/.test(String(g)) ? parseInt(g, 10) : null;
  }
  /** The generation folder name of number n, as wide as the one shown (000013). */
  function generationName(n) {
    var w = Math.max(6, String(live.generation || '').length), s = String(n);
    while (s.length < w) s = '0' + s;
    return s;
  }
  function pad2(n) { return (n < 10 ? '0' : '') + n; }
  function clockTime(iso) {
    var d = new Date(iso);
    if (!iso || isNaN(d.getTime())) return '';
    return pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds());
  }
  function fullTime(iso) {
    var d = new Date(iso);
    if (!iso || isNaN(d.getTime())) return '';
    return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()) + ' ' + clockTime(iso);
  }

  /** Take a change record into the list (once per generation); false if already there. */
  function addChangeEntry(e) {
    var g = Number(e && e.generation);
    if (!e || !isFinite(g) || state.live.seen[g]) return false;
    state.live.seen[g] = true;
    if (state.live.maxSeen === null || g > state.live.maxSeen) state.live.maxSeen = g;
    // the first generation is compared with nothing: its items (if any) are the whole
    // register, not changes
    var items = e.previous == null ? [] : (Array.isArray(e.items) ? e.items : []);
    // the zones of each level whose area changed: one row
    var zones = items.filter(function (it) { return it && it.kind === 'zones'; });
    items = items.filter(function (it) { return it && it.kind && it.kind !== 'zones'; });
    if (zones.length) items.push({ kind: 'zones', kind_zh: zones[0].kind_zh, parts: zones });
    var rows = items.map(function (it) { return { gen: g, time: e.time, item: it }; });
    var alerts = (Array.isArray(e.alerts) ? e.alerts : []).filter(function (a) { return a; })
      .map(function (a) { return { gen: g, time: e.time, alert: a }; });
    var newestFirst = function (a, b) { return b.gen - a.gen; };   // stable: items keep their order
    state.live.rows = rows.concat(state.live.rows).sort(newestFirst).slice(0, CHANGE_ROWS);
    state.live.alerts = alerts.concat(state.live.alerts).sort(newestFirst).slice(0, CHANGE_ALERTS);
    return true;
  }

  function levelChip(key) {
    if (!key) return '';
    var known = SHORT_LEVEL[key];
    if (!known) return '<span class="ch-grade">' + esc(key) + '</span>';
    var c = key === 'none' ? '#e4e7eb' : levelColor(key);
    return '<span class="lv-chip" data-level="' + esc(key) + '" style="background:' + esc(c) + ';color:' +
      (key === 'none' ? '#52606d' : textOn(c)) + '">' + esc(pick(known)) + '</span>';
  }
  function kindText(it) {
    var k = KIND_TEXT[it.kind];
    if (state.lang === 'en') return k ? k[1] : (it.kind_zh || it.kind);
    return it.kind_zh || (k ? k[0] : it.kind);
  }
  // the enterprise a row is about (its card opens on a click); none for a removed one
  function changeEnterprise(it) {
    if (it.kind === 'level_up' || it.kind === 'level_down' || it.kind === 'added') return it.id || '';
    if (it.kind === 'danger_opened' || it.kind === 'danger_closed') return it.enterprise_id || '';
    return '';
  }
  function renderChangeRow(r) {
    var it = r.item, ent = changeEnterprise(it);
    var name = it.name || it.id || it.district || '';
    var district = it.kind === 'district_level' ? (it.name || it.district || it.id || '') : '';
    var h = '<li class="change' + (ent || district ? ' clickable' : '') + '" data-kind="' + esc(it.kind) + '" data-id="' +
      esc(it.id != null ? it.id : '') + '" data-generation="' + esc(r.gen) + '"' +
      (ent ? ' data-enterprise="' + esc(ent) + '" tabindex="0"' : '') +
      (district ? ' data-district="' + esc(district) + '" tabindex="0"' : '') + '>';
    h += '<div class="ch-line"><span class="ch-time" title="' + esc(fullTime(r.time)) + '">' + esc(clockTime(r.time)) + '</span>' +
      '<span class="ch-kind">' + esc(kindText(it)) + '</span>' +
      '<span class="ch-name">' + esc(name) + '</span></div>';
    var sub = [];
    if (it.district && it.kind !== 'district_level') sub.push('<span class="ch-district">' + esc(it.district) + '</span>');
    // added / removed: the one level there is (not "无 → 较大")
    var from = it.from === 'none' ? '' : it.from, to = it.to === 'none' ? '' : it.to;
    if (from || to) {
      sub.push('<span class="ch-levels">' + (from ? levelChip(from) : '') + (from && to ? ' → ' : '') +
        (to ? levelChip(to) : '') + '</span>');
    }
    if (it.grade && !(from || to)) sub.push('<span class="ch-grade">' + esc(it.grade) + '</span>');
    if ((it.kind === 'danger_opened' || it.kind === 'danger_closed') && it.id) sub.push('<span class="ch-id">' + esc(it.id) + '</span>');
    // zones: each level's area before → after
    (it.parts || []).forEach(function (z) {
      if (!Array.isArray(z.km2) || z.km2.length !== 2) return;
      sub.push('<span class="ch-km2">' + levelChip(z.to || z.id) + ' ' + esc(fmtNum(z.km2[0], 2)) + ' → ' +
        esc(t('areaKm2', { a: fmtNum(z.km2[1], 2) })) + '</span>');
    });
    if (sub.length) h += '<div class="ch-sub">' + sub.join('') + '</div>';
    if (it.reason_zh && state.lang !== 'en') h += '<div class="ch-reason">' + esc(it.reason_zh) + '</div>';
    return h + '</li>';
  }
  function renderChangeAlert(r) {
    var a = r.alert, msg = state.lang === 'en' ? (a.message || a.message_zh) : (a.message_zh || a.message);
    var about = Array.isArray(a.about) ? a.about : [];
    // what a click shows: the enterprise (enterprise_red: [id]; major_danger_opened:
    // [danger, enterprise]; reds_in_district: the ids, newest last) or the district
    var ent = a.kind === 'enterprise_red' ? about[0] : a.kind === 'major_danger_opened' ? about[1] :
      a.kind === 'reds_in_district' ? about[about.length - 1] : '';
    var district = a.kind === 'district_up' ? about[0] : '';
    return '<li class="change-alert' + (ent || district ? ' clickable' : '') + '" data-kind="' + esc(a.kind || '') + '" data-rule="' +
      esc(a.rule || '') + '" data-generation="' + esc(r.gen) + '"' + (ent ? ' data-enterprise="' + esc(ent) + '" tabindex="0"' : '') +
      (district ? ' data-district="' + esc(district) + '" tabindex="0"' : '') +
      '><span class="ch-time" title="' + esc(fullTime(r.time)) + '">' + esc(clockTime(r.time)) + '</span>' +
      '<span class="ch-msg">' + esc(msg || a.rule || '') + '</span></li>';
  }
  function renderChanges() {
    var el = $('changes');
    if (!el) return;
    var rows = state.live.rows, alerts = state.live.alerts, h = [];
    if (!rows.length && !alerts.length) {
      el.innerHTML = '<p class="change-empty muted">' + esc(t('noChanges')) + '</p>';
      return;
    }
    if (alerts.length) h.push('<ul class="change-alerts">' + alerts.map(renderChangeAlert).join('') + '</ul>');
    if (rows.length) h.push('<ul class="change-list">' + rows.map(renderChangeRow).join('') + '</ul>');
    el.innerHTML = h.join('');
  }
  function renderLiveStatus() {
    var el = $('live-status');
    if (!el) return;
    el.hidden = typeof EventSource === 'undefined';
    var lost = !state.live.connected && state.live.lost;
    el.setAttribute('data-state', state.live.connected ? 'on' : lost ? 'off' : 'connecting');
    var txt = lost ? t('liveOff') : t('live');
    if (!lost && state.live.updatedAt) txt += ' · ' + t('liveUpdated', { t: clockTime(state.live.updatedAt) });
    el.textContent = txt;
    el.title = lost ? t('liveTitleOff') : t('liveTitle', { g: live.generation || '—' });
  }
  function flashChanges() {
    var sec = $('changes-section');
    if (!sec) return;
    sec.classList.remove('flash');
    void sec.offsetWidth;                  // restart the animation
    sec.classList.add('flash');
  }

  /** Fly to an enterprise of the change list and open its card. */
  function flyToEnterprise(id) {
    return openCard(id, null, null).then(function () {
      var p = state.panel;
      if (!p || p.kind !== 'card' || !p.data || p.data.id !== id || typeof p.data.lon !== 'number') return;
      flyMap(toMapLatLng(p.data.lon, p.data.lat), Math.max(map.getZoom(), 15));
    });
  }
  function setupChanges() {
    var el = $('changes'), status = $('live-status');
    if (!el) return;
    el.addEventListener('click', function (e) {
      var li = e.target.closest && e.target.closest('li.clickable');
      if (!li) return;
      var ent = li.getAttribute('data-enterprise'), district = li.getAttribute('data-district');
      if (ent) { flyToEnterprise(ent); return; }
      if (district) {
        var b = districtBounds(district);
        if (b) map.flyToBounds(b, { padding: [20, 20], duration: 0.8 });
      }
    });
    el.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && e.target.matches && e.target.matches('li.clickable')) e.target.click();
    });
    if (status) status.addEventListener('click', function () {
      var sec = $('changes-section');
      if (sec && sec.scrollIntoView) sec.scrollIntoView({ behavior: 'smooth', block: 'start' });
    });
  }

  /** Show generation `g` (folder name): tiles with the new ?g=, and every count read again. */
  function applyGeneration(g) {
    g = String(g || '');
    if (!g || g === live.generation) return false;
    live.generation = g;
    state.live.number = generationNumber(g);
    state.live.updatedAt = new Date().toISOString();
    renderLiveStatus();
    if (!state.started) return true;
    renewTileLayers();
    if (vec.map && vectorTileset()) {
      (vec.sources || []).forEach(function (k) {
        var src = vec.map.getSource(k);
        if (src && src.setTiles) src.setTiles([vectorTilesUrl(vectorTileset())]);
      });
    }
    loadStats().catch(function (e) { reportError('stats', e); });
    loadAreas().catch(function (e) { reportError('areas', e); });
    loadResources().catch(function (e) { reportError('resources', e); });
    loadLifelines().catch(function (e) { reportError('lifelines', e); });
    schedulePoints(0);
    refreshMeta();
    refreshPanel();
    return true;
  }
  // what a new generation may change in /api/meta: the data date and the filter lists
  function refreshMeta() {
    api('/api/meta').then(function (m) {
      var meta = state.meta;
      ['data_date', 'industries', 'districts'].forEach(function (k) { if (m[k] !== undefined) meta[k] = m[k]; });
      if (m.generation !== undefined) meta.generation = m.generation;
      $('data-date').textContent = meta.data_date ? t('dataDate') + meta.data_date : '';
      var before = JSON.stringify(state.filters);
      sanitizeFilters();
      buildFilters();
      if (JSON.stringify(state.filters) !== before) onFiltersChanged(false);
      if (m.generation) applyGeneration(m.generation);
    }).catch(function (e) { console.warn('[riskmap] meta after a new generation:', e.message); });
  }
  // the card or the location panel open: read again, in place (scroll kept)
  function refreshPanel() {
    var p = state.panel, seq = panelSeq, req = null;
    if (!p || document.body.classList.contains('panel-collapsed')) return;
    if (p.kind === 'card' && p.data && p.data.id != null) req = api('/api/enterprises/' + encodeURIComponent(p.data.id));
    else if (p.kind === 'at' && p.latlng) {
      req = api('/api/at', { lon: p.latlng.lng.toFixed(7), lat: p.latlng.lat.toFixed(7), radius: p.radius || RADIUS_M, crs: crsParam() });
    }
    if (!req) return;
    req.then(function (d) {
      if (seq !== panelSeq || state.panel !== p) return;
      var body = $('panel-body'), top = body.scrollTop;
      p.data = d;
      if (p.kind === 'card' && typeof d.lon === 'number') highlightPoint(toMapLatLng(d.lon, d.lat), d.level);
      renderPanel();
      body.scrollTop = top;
    }).catch(function (e) { console.warn('[riskmap] panel after a new generation:', e.message); });
  }

  /** A change record from /api/events. */
  function onGenerationEvent(entry) {
    if (!entry || entry.generation == null) return;
    var n = Number(entry.generation);
    if (addChangeEntry(entry)) {
      renderChanges();
      if ((entry.items && entry.items.length) || (entry.alerts && entry.alerts.length)) flashChanges();
    }
    // the server has switched this generation in: show it (also an older number: the
    // output folder was built again from scratch)
    if (isFinite(n) && n !== state.live.number) applyGeneration(generationName(n));
  }
  /** Records after the last generation seen; `all`: the last CHANGE_ENTRIES (page load). */
  function loadChanges(all) {
    var last = state.live.maxSeen !== null && !all ? Math.max(state.live.maxSeen, state.live.number || 0) : state.live.number;
    var params = null;
    if (all && last !== null) params = { since: Math.max(0, last - CHANGE_ENTRIES) };
    else if (!all && last !== null) params = { since: last };
    return api('/api/changes', params).then(function (r) {
      var list = (r && Array.isArray(r.changes)) ? r.changes : [];
      var added = 0;
      list.slice(-CHANGE_ENTRIES).forEach(function (e) { if (addChangeEntry(e)) added++; });
      renderChanges();
      if (added && !all) flashChanges();
      if (r && r.generation && r.generation !== live.generation) applyGeneration(r.generation);
    }).catch(function (e) {
      // an older server without the change feed: the list stays empty
      console.warn('[riskmap] changes:', e.message);
      renderChanges();
    });
  }
  var liveSource = null, liveRetry = 0, liveTimer = null;
  function setLiveConnected(on) {
    state.live.connected = !!on;
    state.live.lost = !on;
    live.connected = !!on;
    renderLiveStatus();
  }
  function connectLive() {
    if (typeof EventSource === 'undefined') return;
    clearTimeout(liveTimer);
    if (liveSource) { try { liveSource.close(); } catch (e) { /* closed */ } }
    var es;
    try { es = liveSource = new EventSource('/api/events'); } catch (e) { console.warn('[riskmap] events:', e); return; }
    es.addEventListener('open', function () {
      if (es !== liveSource) return;
      liveRetry = 0;
      setLiveConnected(true);
      loadChanges(false);                  // what was missed while the connection was down
      loadAlarms();
    });
    es.addEventListener('alarm', function (ev) {
      if (es !== liveSource) return;
      var e = null;
      try { e = JSON.parse(ev.data); } catch (x) { /* not JSON: reload anyway */ }
      scheduleAlarms(e);
    });
    es.addEventListener('generation', function (ev) {
      if (es !== liveSource) return;
      live.events++;
      var entry = null;
      try { entry = JSON.parse(ev.data); } catch (e) { console.warn('[riskmap] events: not JSON:', String(ev.data).slice(0, 200)); }
      onGenerationEvent(entry);
    });
    es.addEventListener('error', function () {
      if (es !== liveSource) return;
      setLiveConnected(false);
      // CONNECTING: the browser retries by itself; CLOSED (an answer that is not an event
      // stream, e.g. a server without /api/events): try again later, less and less often
      if (es.readyState === 2) {
        es.close();
        liveTimer = setTimeout(connectLive, Math.min(300000, 5000 * Math.pow(2, liveRetry++)));
      }
    });
  }
  function startLive() {
    renderLiveStatus();
    loadAlarms();
    return loadChanges(true).then(connectLive);
  }

  // ------------------------------------------------------------------ language
  function applyLang() {
    var lang = state.lang;
    document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
    $('lang-toggle').textContent = lang === 'en' ? '中文' : 'EN';
    Array.prototype.forEach.call(document.querySelectorAll('[data-i18n]'), function (el) {
      el.textContent = t(el.getAttribute('data-i18n'));
    });
    Array.prototype.forEach.call(document.querySelectorAll('[data-i18n-placeholder]'), function (el) {
      el.setAttribute('placeholder', t(el.getAttribute('data-i18n-placeholder')));
    });
    Array.prototype.forEach.call(document.querySelectorAll('[data-i18n-title]'), function (el) {
      el.setAttribute('title', t(el.getAttribute('data-i18n-title')));
    });
    if (state.meta) {
      $('data-date').textContent = state.meta.data_date ? t('dataDate') + state.meta.data_date : '';
      buildBasemapList();
      buildFilters();
      buildPointLayerList();
      renderLegend();
      renderPointsNote();
    }
    renderPanel();
    renderChanges();
    renderLiveStatus();
    renderModeToggle();
  }
  $('lang-toggle').addEventListener('click', function () {
    state.lang = state.lang === 'en' ? 'zh' : 'en';
    try { localStorage.setItem('riskmap.lang', state.lang); } catch (e) { /* ignore */ }
    applyLang();
  });

  function sanitizeFilters() {
    var meta = state.meta, f = state.filters;
    var lv = (f.level || '').split(',').filter(function (k) { return LEVEL_KEYS.indexOf(k) >= 0; }).join(',');
    state.filters = {
      level: lv,
      industry: (meta.industries || []).indexOf(f.industry) >= 0 ? f.industry : '',
      district: (meta.districts || []).indexOf(f.district) >= 0 ? f.district : ''
    };
  }
  function setupTools() {
    $('export-png').addEventListener('click', function () { downloadPng(); });
    $('print-view').addEventListener('click', function () { printView(); });
    $('copy-link').addEventListener('click', function () { copyLink(); });
  }

  // ------------------------------------------------------------------ vector mode (MapLibre GL)
  // The same map drawn in the browser from the vector tiles (/tiles/vector/{z}/{x}/{y}.pbf)
  // with the server's MapLibre style (/styles/style.json, or the colour-blind one) on the
  // vendored maplibre-gl, loaded on first use: what a MapLibre/Mapbox portal shows. The
  // sidebar drives it as it drives the raster map (layers, zone opacity, point levels,
  // filters, basemap, search, the card, the live generation); the raster map keeps the
  // view in step underneath (the URL hash reads it), and a click on an enterprise opens
  // the same card. Leaflet zoom z is MapLibre zoom z - 1 (512-pixel tiles).
  var vec = { on: false, map: null, loading: null, seq: 0, styleName: 'style', baseOpacity: null, sources: [] };
  var VEC_LAYER = { surface: ['zones', 'zones-pattern'], grid: ['grid'], districts: ['districts', 'district-labels'], areas: ['areas'] };
  function vectorTileset() {
    var v = (state.meta && state.meta.vector) || [];
    var want = state.crs === 'gcj02' ? /_gcj02$/ : /^(?!.*_gcj02$)/;
    return v.filter(function (x) { return want.test(x.name); })[0] || null;
  }
  function vectorAvailable() {
    var v = (state.meta && state.meta.vector) || [];
    return v.some(function (x) { return !/_gcj02$/.test(x.name); });
  }
  function loadMaplibre() {
    if (window.maplibregl) return Promise.resolve(window.maplibregl);
    if (vec.loading) return vec.loading;
    vec.loading = new Promise(function (res, rej) {
      var css = document.createElement('link');
      css.rel = 'stylesheet';
      css.href = '/viewer/vendor/maplibre-gl/maplibre-gl.css';
      document.head.appendChild(css);
      var s = document.createElement('script');
      s.src = '/viewer/vendor/maplibre-gl/maplibre-gl.js';
      s.onload = function () { window.maplibregl ? res(window.maplibregl) : rej(new Error('maplibre-gl did not load')); };
      s.onerror = function () { rej(new Error('maplibre-gl.js could not be loaded')); };
      document.head.appendChild(s);
    });
    vec.loading.catch(function () { vec.loading = null; });
    return vec.loading;
  }
  function vectorTilesUrl(ts) { return location.origin + withGeneration(ts.tiles); }
  function basemapUrls(b) {
    var subs = String(b.subdomains || '');
    var u = /^https?:/.test(b.url) ? b.url : location.origin + b.url;
    if (u.indexOf('{s}') < 0 || !subs) return [u];
    return subs.split('').map(function (s) { return u.replace('{s}', s); });
  }
  /** The server's style, made the viewer's: tiles carrying the generation, a land colour
   *  under everything, the chosen basemap (and its label overlay over the zones). */
  function vectorStyle() {
    var ts = vectorTileset();
    if (!ts) return Promise.reject(new Error(t('vectorNoTiles')));
    var url = '/styles/' + vec.styleName + '.json' + (state.crs === 'gcj02' ? '?crs=gcj02' : '');
    return api(url).then(function (s) {
      // the tileset's sources (the full one, and the overview ones of layers that stop at a
      // lower zoom, which keep their maxzoom so MapLibre overzooms them)
      vec.sources = [];
      Object.keys(s.sources).forEach(function (k) {
        var src = s.sources[k];
        if (src.type !== 'vector') return;
        vec.sources.push(k);
        s.sources[k] = { type: 'vector', tiles: [vectorTilesUrl(ts)], minzoom: ts.minzoom,
          maxzoom: src.maxzoom != null ? Math.min(src.maxzoom, ts.maxzoom) : ts.maxzoom, bounds: state.meta.bounds };
      });
      var below = [{ id: 'land', type: 'background', paint: { 'background-color': '#eef0ea' } }];
      var over = [];
      var choice = state.basemap >= 0 ? state.basemaps[state.basemap] : null;
      if (choice) {
        choice.entries.forEach(function (b, k) {
          var id = 'basemap-' + k;
          s.sources[id] = { type: 'raster', tiles: basemapUrls(b), tileSize: 256, maxzoom: b.maxzoom || 18,
            attribution: b.attribution || '' };
          (k > 0 ? over : below).push({ id: id, type: 'raster', source: id });
        });
      }
      var layers = below.concat(s.layers);
      var at = layers.findIndex(function (l) { return l.id === 'districts'; });
      if (over.length) Array.prototype.splice.apply(layers, [at < 0 ? layers.length : at, 0].concat(over));
      s.layers = layers;
      s.sources['riskmap-hl'] = { type: 'geojson', data: { type: 'FeatureCollection', features: [] } };
      s.layers.push({ id: 'hl-ring', type: 'circle', source: 'riskmap-hl', filter: ['==', ['get', 'kind'], 'enterprise'],
        paint: { 'circle-radius': 11, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-width': 2.5, 'circle-stroke-color': '#111' } });
      s.layers.push({ id: 'hl-at', type: 'circle', source: 'riskmap-hl', filter: ['==', ['get', 'kind'], 'at'],
        paint: { 'circle-radius': 4, 'circle-color': '#fff', 'circle-stroke-width': 2, 'circle-stroke-color': '#1d5fa8' } });
      var z = s.layers.filter(function (l) { return l.id === 'zones'; })[0];
      vec.baseOpacity = z && typeof z.paint['fill-opacity'] === 'number' ? z.paint['fill-opacity'] : 1;
      return s;
    });
  }
  function vectorFilter() {
    var lv = LEVEL_KEYS.filter(function (k) { return state.visible[k] !== false; });
    if (state.filters.level) {
      var want = state.filters.level.split(',');
      lv = lv.filter(function (k) { return want.indexOf(k) >= 0; });
    }
    var f = ['all', ['in', ['coalesce', ['get', 'level'], 'unassessed'], ['literal', lv]]];
    if (state.filters.industry) f.push(['==', ['coalesce', ['get', 'industry'], '未分类'], state.filters.industry]);
    if (state.filters.district) f.push(['==', ['get', 'district'], state.filters.district]);
    return f;
  }
  /** Put the sidebar's state on the MapLibre map (after a style load and on every change). */
  function vectorSync() {
    var m = vec.map;
    if (!m || !m.isStyleLoaded()) return;
    Object.keys(VEC_LAYER).forEach(function (key) {
      VEC_LAYER[key].forEach(function (id) {
        if (m.getLayer(id)) m.setLayoutProperty(id, 'visibility', state.layers[key] ? 'visible' : 'none');
      });
    });
    ['zones', 'zones-pattern'].forEach(function (id) {
      if (m.getLayer(id)) m.setPaintProperty(id, 'fill-opacity', vec.baseOpacity * state.zoneOpacity);
    });
    if (m.getLayer('enterprises')) m.setFilter('enterprises', vectorFilter());
  }
  function vectorHighlight(ll, kind) {
    var m = vec.map;
    if (!m || !m.getSource('riskmap-hl')) return;
    m.getSource('riskmap-hl').setData({ type: 'FeatureCollection', features: ll ? [{ type: 'Feature',
      properties: { kind: kind }, geometry: { type: 'Point', coordinates: [ll.lng, ll.lat] } }] : [] });
  }
  /** Keep the hidden raster map on the vector map's view (the hash and the way back read it). */
  function vectorToRaster() {
    if (!vec.map) return;
    var c = vec.map.getCenter();
    map.setView([c.lat, c.lng], Math.round(vec.map.getZoom() + 1), { animate: false });
  }
  function vectorSetStyle() {
    var seq = ++vec.seq;
    return vectorStyle().then(function (s) {
      if (seq !== vec.seq || !vec.map) return;
      vec.map.setStyle(s, { diff: false });
      return new Promise(function (res) { vec.map.once('style.load', function () { vectorSync(); res(); }); });
    });
  }
  function vectorPick(e) {
    var m = vec.map, p = e.point;
    var hits = m.getLayer('enterprises') ? m.queryRenderedFeatures([[p.x - 5, p.y - 5], [p.x + 5, p.y + 5]], { layers: ['enterprises'] }) : [];
    if (!hits.length) { queryAt(L.latLng(e.lngLat.lat, e.lngLat.lng)); return; }
    // the highest level first, then the nearest to the click
    hits.sort(function (a, b) {
      var r = (RANK[b.properties.level] || 0) - (RANK[a.properties.level] || 0);
      if (r) return r;
      var pa = m.project(a.geometry.coordinates), pb = m.project(b.geometry.coordinates);
      return (pa.dist(p) - pb.dist(p));
    });
    var f = hits[0], c = f.geometry.coordinates;
    openCard(String(f.properties.id), L.latLng(c[1], c[0]), null);
  }
  function createVectorMap(style) {
    var c = map.getCenter();
    var m = vec.map = new window.maplibregl.Map({
      container: 'vmap',
      style: style,
      center: [c.lng, c.lat],
      zoom: Math.max(0, map.getZoom() - 1),
      minZoom: Math.max(0, map.getMinZoom() - 1),
      maxZoom: Math.max(0, map.getMaxZoom() - 1),
      attributionControl: { compact: true },
      // district names come from the server's glyphs (no system font needed offline)
      localIdeographFontFamily: false,
      // so the PNG export can read the canvas
      canvasContextAttributes: { preserveDrawingBuffer: true },
      fadeDuration: 0
    });
    m.addControl(new window.maplibregl.NavigationControl({ showCompass: false }), 'top-left');
    m.on('click', vectorPick);
    m.on('mouseenter', 'enterprises', function () { m.getCanvas().style.cursor = 'pointer'; });
    m.on('mouseleave', 'enterprises', function () { m.getCanvas().style.cursor = ''; });
    m.on('moveend', function () { if (vec.on) vectorToRaster(); });
    m.on('error', function (e) { console.warn('[riskmap] vector map:', e && e.error ? e.error.message : e); });
    return new Promise(function (res) { m.once('load', function () { vectorSync(); res(); }); });
  }
  /** Switch to (true) or from (false) the vector map. */
  function setVectorMode(on) {
    on = !!on && vectorAvailable();
    if (on === vec.on) return Promise.resolve(vec.on);
    vec.on = on;
    document.body.classList.toggle('vector-mode', on);
    $('vmap').hidden = !on;
    renderModeToggle();
    scheduleHash();
    if (!on) {
      vectorToRaster();
      map.invalidateSize();
      schedulePoints(0);
      return Promise.resolve(false);
    }
    setStatus(t('loading'));
    return loadMaplibre().then(function () { return vectorStyle(); }).then(function (s) {
      if (!vec.on) return;
      if (!vec.map) return createVectorMap(s);
      var c = map.getCenter();
      vec.map.jumpTo({ center: [c.lng, c.lat], zoom: Math.max(0, map.getZoom() - 1) });
      vec.map.resize();
      vec.map.setStyle(s, { diff: false });
      return new Promise(function (res) { vec.map.once('style.load', function () { vectorSync(); res(); }); });
    }).then(function () {
      setStatus('');
      var p = state.panel;
      if (p && p.kind === 'card' && p.data && typeof p.data.lon === 'number') vectorHighlight(toMapLatLng(p.data.lon, p.data.lat), 'enterprise');
      return vec.on;
    }).catch(function (e) {
      reportError('vector', e);
      vec.on = false;
      document.body.classList.remove('vector-mode');
      $('vmap').hidden = true;
      renderModeToggle();
      return false;
    });
  }
  /** Wait until the vector map has drawn every tile of the view (for tests and export). */
  function vectorIdle() {
    var m = vec.map;
    if (!vec.on || !m) return Promise.resolve(false);
    if (m.loaded() && m.areTilesLoaded() && !m.isMoving()) return Promise.resolve(true);
    return new Promise(function (res) { m.once('idle', function () { res(true); }); });
  }
  /** Move whichever map is shown (ll in map coordinates, Leaflet zoom). */
  function flyMap(ll, zoom) {
    if (vec.on && vec.map) vec.map.flyTo({ center: [ll.lng, ll.lat], zoom: zoom - 1, duration: 800 });
    else map.flyTo(ll, zoom, { duration: 0.8 });
  }
  function renderModeToggle() {
    var b = $('mode-toggle');
    if (!b) return;
    b.hidden = !vectorAvailable();
    b.textContent = vec.on ? t('modeRaster') : t('modeVector');
    b.title = vec.on ? t('modeRasterTitle') : t('modeVectorTitle');
    b.setAttribute('aria-pressed', vec.on ? 'true' : 'false');
    var cb = $('vector-colorblind-row');
    if (cb) cb.hidden = !vec.on;
  }
  function setupVectorMode() {
    $('mode-toggle').addEventListener('click', function () { setVectorMode(!vec.on); });
    var cb = $('vector-colorblind');
    cb.checked = vec.styleName === 'style_colorblind';
    cb.addEventListener('change', function () {
      vec.styleName = cb.checked ? 'style_colorblind' : 'style';
      scheduleHash();
      if (vec.on && vec.map) vectorSetStyle().catch(function (e) { reportError('vector', e); });
    });
    renderModeToggle();
  }

  // ------------------------------------------------------------------ start-up
  function init() {
    var hs0 = {};
    applyLang();
    setStatus(t('loading'));
    return api('/api/meta').then(function (meta) {
      state.meta = meta;
      // with a road network the reach layer is the area reached by road
      if (meta.fire_reach_method === 'road_network') {
        var rl = document.querySelector('[data-i18n="layerReach"]');
        if (rl) rl.setAttribute('data-i18n', 'layerReachRoad');
      }
      // the generation shown: tile URLs carry it (?g=) from the first request on
      live.generation = String(meta.generation || state.live.header || '');
      state.live.number = generationNumber(live.generation);
      if (Array.isArray(meta.levels) && meta.levels.length) {
        state.levels = meta.levels.slice().sort(function (a, b) { return (RANK[b.key] || 0) - (RANK[a.key] || 0); });
      }
      if (meta.title) { $('title').textContent = meta.title; document.title = meta.title; }

      // basemap choices, then what the URL hash asks for (view, layers, filters, basemap)
      state.basemaps = basemapChoices(meta);
      state.basemap = state.basemaps.length ? 0 : -1;
      var hs = hs0 = parseHash(location.hash);
      hashToState(hs);
      sanitizeFilters();
      state.crs = state.basemap >= 0 ? state.basemaps[state.basemap].crs : 'wgs84';

      var maxNative = meta.maxzoom != null ? meta.maxzoom : 18;
      map.setMaxZoom(Math.max(maxNative + 2, 18));
      map.setMinZoom(Math.max(0, (meta.minzoom != null ? meta.minzoom : 3) - 1));
      var b = mapBoundsFromMeta(meta);
      if (b) map.setMaxBounds(b.pad(0.6));
      // start on meta.center, but never closer in than the zoom that shows the whole region
      var fitZoom = b ? map.getBoundsZoom(b) : null;
      if (hs.center) {
        map.setView(toMapLatLng(hs.center.lon, hs.center.lat), hs.zoom != null ? hs.zoom : (fitZoom || 10), { animate: false });
      } else if (Array.isArray(meta.center) && meta.center.length >= 2 &&
          (fitZoom === null || meta.center[2] == null || meta.center[2] <= fitZoom)) {
        map.setView(toMapLatLng(meta.center[0], meta.center[1]), meta.center[2] != null ? meta.center[2] : (fitZoom || 10), { animate: false });
      } else if (b) {
        map.fitBounds(b, { animate: false });
      }

      buildBasemapList();
      setupBasemapControl();
      setBasemap(state.basemap, { keepView: true });
      setupTileLayers();
      setupFilters();
      setupSearch();
      setupPanel();
      setupTools();
      setupChanges();
      setupVectorMode();
      applyLang();

      map.on('moveend', function () { schedulePoints(); scheduleHash(); });
      state.started = true;
      if (hs.enterprise) openCard(hs.enterprise, null, null);

      var districts = loadDistricts().catch(function (e) { reportError('districts', e); });
      var areas = loadAreas().catch(function (e) { reportError('areas', e); });
      var res = loadResources().catch(function (e) { reportError('resources', e); });
      var life = loadLifelines().catch(function (e) { reportError('lifelines', e); });
      return Promise.all([loadStats(), districts, areas, res, life, loadPoints()]);
    }).then(function () {
      return pointsSettled();
    }).then(function () {
      // a link with m=v opens on the vector map
      return hs0.vector ? setVectorMode(true).then(vectorIdle) : null;
    }).then(function () {
      writeHash();
      setStatus('');
      document.body.setAttribute('data-loaded', 'true');
      readyResolve(true);
      // the live map: 最近变化 from /api/changes, then new generations from /api/events
      try { startLive().catch(function (e) { console.warn('[riskmap] live:', e); }); } catch (e) { console.warn('[riskmap] live:', e); }
    }).catch(function (e) {
      reportError('start-up', e);
      document.body.setAttribute('data-loaded', 'error');
      readyReject(e);
    });
  }

  var riskmap = {
    map: map,
    ready: ready,
    state: state,
    pointsSettled: pointsSettled,
    openCard: openCard,
    queryAt: queryAt,
    setBasemap: setBasemap,
    exportPng: exportPng,
    viewHash: viewHash,
    tileLayers: tileLayers,
    getAreasLayer: function () { return areasLayer; },
    applyGeneration: applyGeneration,
    flyToEnterprise: flyToEnterprise,
    zoneRgba: zoneRgba,
    wgs84ToGcj02: wgs84ToGcj02,
    gcj02ToWgs84: gcj02ToWgs84,
    setVectorMode: setVectorMode,
    vectorIdle: vectorIdle,
    getVectorMap: function () { return vec.map; },
    isVector: function () { return vec.on; }
  };
  window.riskmap = riskmap;
  init();
})();
