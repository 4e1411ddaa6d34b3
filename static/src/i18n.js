// i18n: the viewer's words in Chinese (the default) and English, the current
// language (kept in localStorage), and re-translation of the page on a switch.
// Elements carry data-i18n (text), data-i18n-placeholder or data-i18n-title.

const WORDS = {
  title: ['芹阳办事处 一张图', 'Qinyang one map'],
  'tab.layers': ['图层', 'Layers'],
  'tab.query': ['区域统计', 'Area query'],
  'tab.dashboard': ['统计', 'Dashboard'],
  'tab.upload': ['上传', 'Upload'],
  'tab.compare': ['对比', 'Compare'],
  office: ['芹阳办事处', 'Qinyang Sub-district Office'],
  'asof.label': ['截至日期', 'As of'],
  'asof.title': ['把地图放到过去某一天（时间可选，北京时间）', 'Show the map as it stood on a past date (time optional, UTC+8)'],
  'asof.time': ['时间（可选）', 'Time (optional)'],
  'asof.now': ['现在', 'Now'],
  'asof.badge': ['历史地图', 'Past map'],
  'asof.badge.text': ['截至 {at}', 'as of {at}'],
  'asof.back': ['回到现在', 'Back to now'],
  'asof.future': ['所选时间还没到，地图显示现在', 'That time has not come yet: the map shows now'],
  'asof.details': ['截至 {at} 时的状态', 'As it stood at {at}'],
  'asof.short': ['截至 {at}', 'as of {at}'],
  'lang.switch': ['EN', '中文'],
  'lang.switch.title': ['Switch to English', '切换到中文'],
  'menu.title': ['显示/隐藏面板', 'Show or hide the panel'],
  'home.title': ['全图', 'Whole sub-district'],
  'search.placeholder': ['搜索 地块编号、村社、网格、小区', 'Search parcel code, village, grid, community'],
  'search.none': ['没有找到', 'Nothing found'],
  'search.searching': ['正在搜索…', 'Searching…'],
  'layer.villages': ['村/社区', 'Villages'],
  'layer.grids': ['网格', 'Grids'],
  'layer.parcels': ['地块', 'Parcels'],
  'layer.farmland': ['农田', 'Farmland'],
  'layer.demolition_sites': ['征迁地块', 'Demolition sites'],
  'layer.communities': ['小区', 'Communities'],
  'layers.count': ['{n} 个', '{n} features'],
  'layers.opacity': ['透明度', 'Opacity'],
  'layers.legend': ['图例', 'Legend'],
  'layers.basemap': ['底图', 'Basemap'],
  'legend.village': ['村/社区界线', 'Village boundary'],
  'legend.grid': ['网格', 'Grid'],
  'legend.microgrid': ['微网格', 'Micro-grid'],
  'unit.mu': ['亩', 'mu'],
  'unit.m2': ['m²', 'm²'],
  'unit.ha': ['公顷', 'ha'],
  'unit.households': ['户', 'households'],
  'info.title': ['详情', 'Details'],
  'info.close': ['关闭', 'Close'],
  'info.area': ['面积', 'Area'],
  'info.responsible': ['责任网格', 'Responsible grid'],
  'info.village': ['村/社区', 'Village'],
  'info.grid': ['网格', 'Grid'],
  'info.microgrid': ['微网格', 'Micro-grid'],
  'info.manager': ['网格员', 'Grid manager'],
  'info.micro.manager': ['微网格员', 'Micro-grid manager'],
  'info.micro.phone': ['微网格电话', 'Micro-grid phone'],
  'info.phone': ['电话', 'Phone'],
  'info.history': ['历史版本', 'History'],
  'info.nohistory': ['无历史记录', 'No history'],
  'info.nothing': ['此处没有要素', 'No feature here'],
  'info.point': ['位置', 'Location'],
  'info.loading': ['正在加载…', 'Loading…'],
  'info.also': ['此处还有', 'Also here'],
  'info.query': ['统计此范围内的图层', 'Query the layers inside it'],
  'info.notthen': ['所选日期该要素不存在', 'This feature did not exist at the chosen date'],
  'info.shown': ['（地图所示版本）', '(the version on the map)'],
  'op.import': ['导入', 'imported'],
  'op.create': ['新增', 'created'],
  'op.insert': ['新增', 'created'],
  'op.update': ['修改', 'changed'],
  'op.replace': ['修改', 'replaced'],
  'op.patch': ['修改', 'patched'],
  'op.delete': ['删除', 'deleted'],
  'query.intro': ['画一个范围，或选择村社、网格，统计范围内各图层的面积和个数。',
    'Draw an area, or pick a village or grid, to count and measure every layer inside it.'],
  'query.box': ['矩形', 'Rectangle'],
  'query.polygon': ['多边形', 'Polygon'],
  'query.village': ['选择村社', 'Pick a village'],
  'query.grid': ['选择网格', 'Pick a grid'],
  'query.clear': ['清除', 'Clear'],
  'query.drawing.box': ['单击矩形的一角，再单击对角', 'Click one corner of the rectangle, then the opposite one'],
  'query.drawing.polygon': ['在地图上单击添加顶点，双击结束', 'Click to add vertices, double-click to finish'],
  'query.area': ['统计范围', 'Query area'],
  'query.running': ['正在统计…', 'Computing…'],
  'query.layer': ['图层', 'Layer'],
  'query.group': ['分类', 'Group'],
  'query.count': ['个数', 'Count'],
  'query.total': ['合计', 'Total'],
  'query.csv': ['导出 CSV', 'Export CSV'],
  'query.geojson': ['导出 GeoJSON', 'Export GeoJSON'],
  'query.clip': ['面积只计范围内部分', 'Count only the part inside the area'],
  'query.all': ['（全部）', '(all)'],
  'query.highlighted': ['地图上已高亮 {n} 个要素', '{n} features highlighted on the map'],
  'dash.scope': ['范围', 'Scope'],
  'dash.all': ['全街道', 'Whole sub-district'],
  'dash.acquired': ['征收土地', 'Land acquired'],
  'dash.demolished': ['拆除房屋', 'Houses demolished'],
  'dash.households': ['涉及户数', 'Households'],
  'dash.graves': ['迁坟', 'Graves moved'],
  'dash.projects': ['征迁项目', 'Projects'],
  'dash.farmland': ['农业基地', 'Farmland bases'],
  'dash.red': ['红色物业联盟小区', 'Red property alliance'],
  'dash.red.of': ['{a} / {b} 个小区', '{a} of {b} communities'],
  'dash.red.households': ['覆盖 {n} 户', '{n} households'],
  'dash.crops': ['各作物面积（亩）', 'Area per crop (mu)'],
  'dash.status': ['征迁进度（亩）', 'Demolition progress (mu)'],
  'dash.loading': ['正在计算…', 'Computing…'],
  'dash.note': ['数字由地图实时计算', 'Figures computed live from the map'],
  'dash.note.asof': ['截至 {at} 的数字', 'Figures as they stood at {at}'],
  'dash.mode.now': ['当前', 'Current'],
  'dash.mode.year': ['年度', 'Year'],
  'year.pick': ['年份', 'Year'],
  'year.option': ['{y} 年', '{y}'],
  'year.period': ['{from} 至 {to}（北京时间）', '{from} to {to} (UTC+8)'],
  'year.acquired': ['征收土地', 'Land acquired'],
  'year.lots': ['{n} 宗', '{n} sites'],
  'year.demolished': ['拆迁房屋', 'Houses demolished'],
  'year.sqm': ['平方米', 'm²'],
  'year.houses': ['主房', 'Main houses'],
  'year.houses.unit': ['幢', ''],
  'year.graves': ['迁移坟墓', 'Graves moved'],
  'year.graves.unit': ['穴', ''],
  'year.planted': ['种植', 'Planted'],
  'year.joined': ['红色物业联盟新成员', 'New red property members'],
  'year.joined.unit': ['个小区', 'communities'],
  'year.acquired.list': ['征收土地明细', 'Land acquired: sites'],
  'year.demolished.list': ['拆迁房屋明细', 'Houses demolished: sites'],
  'year.planted.list': ['各作物种植（亩）', 'Planted per crop (mu)'],
  'year.joined.list': ['新加入红色物业联盟的小区', 'Communities that joined the red property alliance'],
  'year.monthly.acquired': ['每月征收土地（亩）', 'Land acquired per month (mu)'],
  'year.monthly.demolished': ['每月拆迁房屋（平方米）', 'Floor area demolished per month (m²)'],
  'year.bases': ['{n} 块', '{n} bases'],
  'year.new': ['新增', 'new'],
  'year.nocrop': ['（未填）', '(none)'],
  'year.none': ['无', 'None'],
  'cmp.intro': ['比较两个时间的地图（北京时间；只填日期即当天结束时）：绿色为新增，红色为删除，橙色为修改。只比较当前视图内显示的图层。',
    'Compare the map at two instants (UTC+8; a date alone is the end of that day): green added, red removed, orange changed. Only the layers shown, within the current view.'],
  'cmp.a': ['时间 A（起）', 'Instant A (from)'],
  'cmp.b': ['时间 B（止，留空为现在）', 'Instant B (to; empty for now)'],
  'cmp.run': ['对比当前视图', 'Compare this view'],
  'cmp.running': ['正在对比…', 'Comparing…'],
  'cmp.added': ['新增', 'Added'],
  'cmp.removed': ['删除', 'Removed'],
  'cmp.changed': ['修改', 'Changed'],
  'cmp.area': ['面积变化', 'Area change'],
  'cmp.boundary': ['边界', 'boundary'],
  'cmp.sep': ['；', '; '],
  'cmp.now': ['现在', 'now'],
  'cmp.view': ['当前视图', 'current view'],
  'cmp.none': ['这段时间视图内没有变化', 'Nothing changed in this view in that period'],
  'cmp.more': ['视图内{layer}超过 {n} 个，未逐个列出；请放大地图后再对比', 'More than {n} {layer} in the view: not listed; zoom in and compare again'],
  'cmp.need': ['请填写时间 A 的日期', 'Enter the date of instant A'],
  'cmp.order': ['时间 B 须晚于时间 A', 'Instant B must come after instant A'],
  'report.open': ['出图', 'Print map'],
  'report.intro': ['选择范围和时间，然后生成图纸。', 'Pick an area and a time, then make the sheet.'],
  'report.title': ['标题', 'Title'],
  'report.scope': ['范围', 'Area'],
  'report.scope.view': ['当前视图', 'Current view'],
  'report.time': ['数字', 'Figures'],
  'report.time.map': ['地图所示日期的统计', 'Summary at the map\'s date'],
  'report.time.year': ['{y} 年度数字', 'Figures of {y}'],
  'report.time.compare': ['对比时段 {period}', 'Compared period {period}'],
  'report.make': ['生成', 'Make'],
  'report.print': ['打印', 'Print'],
  'report.making': ['正在出图…', 'Making the sheet…'],
  'report.mapdate': ['地图日期', 'Map date'],
  'report.period': ['统计时段', 'Period'],
  'report.made': ['制图日期', 'Made on'],
  'report.line': ['{k}：{v}', '{k}: {v}'],
  'report.now': ['{at}（现在）', '{at} (now)'],
  'report.north': ['指北针', 'North arrow'],
  'report.map.alt': ['{scope} 地图', 'Map of {scope}'],
  'report.figures.at': ['统计（截至 {at}）', 'Summary (as of {at})'],
  'report.figures.compared': ['对比时段数字', 'Figures of the compared period'],
  'report.changes': ['新增 {a} · 删除 {r} · 修改 {c}', '{a} added · {r} removed · {c} changed'],
  'up.intro': ['上传测绘成果（GeoJSON 或 Shapefile 压缩包），先试运行查看变化，再提交。',
    'Upload survey results (GeoJSON or a zipped Shapefile): try it first, then commit.'],
  'up.token': ['令牌', 'Token'],
  'up.token.placeholder': ['粘贴令牌', 'Paste your token'],
  'up.layer': ['图层', 'Layer'],
  'up.file': ['文件', 'File'],
  'up.mode': ['方式', 'Mode'],
  'up.mode.upsert': ['新增和更新', 'Add and update'],
  'up.mode.replace': ['整层替换', 'Replace the layer'],
  'up.makevalid': ['自动修复无效几何', 'Repair invalid geometries'],
  'up.dryrun': ['试运行', 'Try (dry run)'],
  'up.commit': ['提交', 'Commit'],
  'up.cancel': ['取消', 'Cancel'],
  'up.progress.upload': ['上传中 {sent} / {total} {unit}（{pct}%）', 'Uploading {sent} of {total} {unit} ({pct}%)'],
  'up.progress.waiting': ['已上传，等待服务器…', 'Sent; waiting for the server…'],
  'up.progress.server': ['服务器：{phase}', 'Server: {phase}'],
  'up.progress.features': ['{n} 个要素', '{n} features'],
  'up.phase.starting': ['准备', 'starting'],
  'up.phase.reading': ['读取', 'reading'],
  'up.phase.parsing': ['解析校验', 'parsing and validating'],
  'up.phase.matching': ['比对', 'matching'],
  'up.phase.writing': ['写入', 'writing'],
  'up.phase.indexing': ['建索引', 'indexing'],
  'up.phase.committing': ['提交', 'committing'],
  'up.phase.done': ['完成', 'done'],
  'up.rate.features': ['{n} 个/秒', '{n} per second'],
  'up.rate.bytes': ['{n}/秒', '{n}/s'],
  'up.eta': ['约剩 {t}', 'about {t} left'],
  'up.seconds': ['{n} 秒', '{n} s'],
  'up.minutes': ['{m} 分 {s} 秒', '{m} min {s} s'],
  'up.cancelling': ['正在取消…', 'Cancelling…'],
  'up.cancelled': ['已取消，未写入任何数据', 'Cancelled: nothing was written'],
  'up.cancel.late': ['取消时提交已完成，数据已写入', 'Too late to cancel: the commit had already been written'],
  'up.added': ['新增', 'Added'],
  'up.changed': ['修改', 'Changed'],
  'up.unchanged': ['未变', 'Unchanged'],
  'up.removed': ['删除', 'Removed'],
  'up.invalid': ['无效', 'Invalid'],
  'up.areachange': ['面积变化', 'Area change'],
  'up.reasons': ['无效要素', 'Invalid features'],
  'up.repaired': ['已自动修复', 'Repaired'],
  'up.index': ['序号', 'Index'],
  'up.key': ['编号', 'Key'],
  'up.reason': ['原因', 'Reason'],
  'up.dryrun.done': ['试运行结果（尚未写入）', 'Dry run (nothing written yet)'],
  'up.commit.done': ['已提交，变更编号 {id}', 'Committed, change {id}'],
  'up.needfile': ['请选择文件', 'Choose a file'],
  'up.needtoken': ['请输入令牌', 'Enter a token'],
  'up.legend.old': ['原边界', 'Old boundary'],
  'up.legend.new': ['新边界', 'New boundary'],
  'up.legend.invalid': ['问题位置', 'Problem spot'],
  'up.fixfirst': ['有无效要素，修正后再提交（或勾选自动修复）',
    'Fix the invalid features before committing (or tick repair)'],
  'err.load': ['加载失败：{msg}', 'Could not load: {msg}'],
  'err.generic': ['出错了：{msg}', 'Error: {msg}'],
};

const listeners = [];
let current = 'zh';
try {
  const saved = localStorage.getItem('onemap.lang');
  if (saved === 'en' || saved === 'zh') current = saved;
} catch (e) {
  // storage may be off (private mode): Chinese then
}

export function lang() {
  return current;
}

// The word for key in the current language, {name} placeholders filled.
export function t(key, vars) {
  const w = WORDS[key];
  let s = w ? w[current === 'en' ? 1 : 0] : key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
  return s;
}

export function applyI18n(root = document) {
  document.documentElement.lang = current === 'en' ? 'en' : 'zh-CN';
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-title]')) {
    el.title = t(el.dataset.i18nTitle);
    el.setAttribute('aria-label', el.title);
  }
}

export function setLang(l) {
  current = l === 'en' ? 'en' : 'zh';
  try {
    localStorage.setItem('onemap.lang', current);
  } catch (e) {
    // not kept, still switched
  }
  applyI18n();
  for (const f of listeners) f(current);
}

// f(lang) runs after every switch, to re-render what is built in code.
export function onLangChange(f) {
  listeners.push(f);
}

const formats = new Map();
export function fmtNumber(x, digits = 0) {
  if (x === null || x === undefined || Number.isNaN(Number(x))) return '';
  const key = `${current}${digits}`;
  let f = formats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(current === 'en' ? 'en-US' : 'zh-CN', {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
    formats.set(key, f);
  }
  return f.format(Number(x));
}
