// domain: what the office's data means — the six layers in drawing order,
// their natural grouping keys, GB/T 21010-2017 land classes, crops and
// demolition statuses, with names in both languages and map colours.

// Bottom to top: filled layers first, outlines on top.
export const LAYER_ORDER = ['parcels', 'farmland', 'communities', 'demolition_sites', 'villages', 'grids'];

// The property each layer is grouped by in /summary and the area query.
export const GROUP_BY = {
  villages: 'kind',
  grids: 'level',
  parcels: 'dlbm',
  farmland: 'crop',
  demolition_sites: 'status',
  communities: 'red_property',
};

// The field that names a feature for people (search results, headings).
export const NAME_FIELD = {
  villages: 'name',
  grids: 'name',
  parcels: 'code',
  farmland: 'code',
  demolition_sites: 'project',
  communities: 'name',
};

// First-level classes of GB/T 21010-2017, coloured after the 三调 map legend.
export const LAND_GROUPS = {
  '01': { zh: '耕地', en: 'Cropland', color: '#f4e27a' },
  '02': { zh: '园地', en: 'Orchards', color: '#e6b86a' },
  '03': { zh: '林地', en: 'Forest', color: '#5fae5a' },
  '04': { zh: '草地', en: 'Grassland', color: '#b8dc8a' },
  '05': { zh: '商服用地', en: 'Commercial', color: '#e8808a' },
  '06': { zh: '工矿仓储用地', en: 'Industrial', color: '#b48ab8' },
  '07': { zh: '住宅用地', en: 'Residential', color: '#f0a08c' },
  '08': { zh: '公共管理与公共服务用地', en: 'Public services', color: '#e49ac8' },
  '09': { zh: '特殊用地', en: 'Special', color: '#9aa6b0' },
  '10': { zh: '交通运输用地', en: 'Transport', color: '#bdbdbd' },
  '11': { zh: '水域及水利设施用地', en: 'Water', color: '#8cc4ec' },
  '12': { zh: '其他土地', en: 'Other land', color: '#ddd6c8' },
};

export const LAND_CLASSES = {
  '0101': ['水田', 'Paddy field'], '0102': ['水浇地', 'Irrigated land'], '0103': ['旱地', 'Dry land'],
  '0201': ['果园', 'Orchard'], '0202': ['茶园', 'Tea garden'], '0203': ['橡胶园', 'Rubber plantation'],
  '0204': ['其他园地', 'Other garden'], '0301': ['乔木林地', 'Arbor forest'], '0302': ['竹林地', 'Bamboo forest'],
  '0305': ['灌木林地', 'Shrubland'], '0307': ['其他林地', 'Other forest'], '0401': ['天然牧草地', 'Natural pasture'],
  '0403': ['人工牧草地', 'Sown pasture'], '0404': ['其他草地', 'Other grassland'],
  '0501': ['零售商业用地', 'Retail'], '0502': ['批发市场用地', 'Wholesale market'], '0503': ['餐饮用地', 'Catering'],
  '0504': ['旅馆用地', 'Hotels'], '0505': ['商务金融用地', 'Business and finance'], '0506': ['娱乐用地', 'Entertainment'],
  '0507': ['其他商服用地', 'Other commercial'], '0601': ['工业用地', 'Industry'], '0602': ['采矿用地', 'Mining'],
  '0604': ['仓储用地', 'Warehousing'], '0701': ['城镇住宅用地', 'Urban housing'], '0702': ['农村宅基地', 'Rural homesteads'],
  '0801': ['机关团体用地', 'Government'], '0803': ['教育用地', 'Education'], '0805': ['医疗卫生用地', 'Health care'],
  '0809': ['公用设施用地', 'Utilities'], '0810': ['公园与绿地', 'Parks and green space'], '1003': ['公路用地', 'Highways'],
  '1004': ['城镇村道路用地', 'Town and village roads'], '1006': ['农村道路', 'Rural roads'], '1101': ['河流水面', 'Rivers'],
  '1103': ['水库水面', 'Reservoirs'], '1104': ['坑塘水面', 'Ponds'], '1107': ['沟渠', 'Ditches'],
  '1201': ['空闲地', 'Vacant land'], '1202': ['设施农用地', 'Agricultural facilities'], '1203': ['田坎', 'Field ridges'],
  '1206': ['裸土地', 'Bare land'],
};

export const CROPS = {
  大棚蔬菜: { en: 'Greenhouse vegetables', color: '#7fc97f' },
  山地蔬菜: { en: 'Upland vegetables', color: '#b2df8a' },
  中药材: { en: 'Medicinal herbs', color: '#beaed4' },
  香榧: { en: 'Torreya', color: '#8c6d31' },
  油茶: { en: 'Oil camellia', color: '#e7ba52' },
  蟠姜: { en: 'Pan ginger', color: '#fdc086' },
  水稻: { en: 'Rice', color: '#ffff99' },
};
export const OTHER_CROP_COLOR = '#cccccc';

// planned → negotiating → signed → demolished → reused
export const STATUSES = {
  planned: { zh: '规划', en: 'Planned', color: '#9ecae1' },
  negotiating: { zh: '洽谈中', en: 'Negotiating', color: '#fdae6b' },
  signed: { zh: '已签约', en: 'Signed', color: '#fd8d3c' },
  demolished: { zh: '已拆除', en: 'Demolished', color: '#d62728' },
  reused: { zh: '已利用', en: 'Re-used', color: '#31a354' },
};

export const RED_PROPERTY_COLOR = '#d7191c';
export const OTHER_COMMUNITY_COLOR = '#4a7ab5';

export function landGroupOf(dlbm) {
  return LAND_GROUPS[String(dlbm || '').slice(0, 2)] || LAND_GROUPS['12'];
}

// A group key as people read it, e.g. dlbm "0101" -> "0101 水田".
export function groupLabel(collection, key, lang) {
  const en = lang === 'en';
  if (key === null || key === undefined || key === '') return en ? '(none)' : '（空）';
  switch (collection) {
    case 'parcels': {
      const c = LAND_CLASSES[key];
      return c ? `${key} ${en ? c[1] : c[0]}` : String(key);
    }
    case 'farmland':
      return en && CROPS[key] ? `${key} ${CROPS[key].en}` : String(key);
    case 'demolition_sites':
      return STATUSES[key] ? (en ? STATUSES[key].en : STATUSES[key].zh) : String(key);
    case 'communities':
      if (key === true || key === 'true' || key === 1) return en ? 'Red property alliance' : '红色物业联盟';
      if (key === false || key === 'false' || key === 0) return en ? 'Other' : '其他小区';
      return String(key);
    case 'grids':
      if (!en) return String(key);
      return key === '网格' ? 'Grid' : key === '微网格' ? 'Micro-grid' : String(key);
    case 'villages':
      if (!en) return String(key);
      return key === '村' ? 'Village' : key === '社区' ? 'Community' : String(key);
    default:
      return String(key);
  }
}

// A property value as people read it (enumerations translated).
export function valueLabel(collection, field, value, lang) {
  if (value === null || value === undefined) return '';
  if (collection === 'demolition_sites' && field === 'status') return groupLabel(collection, value, lang);
  if (field === 'dlbm') return groupLabel('parcels', value, lang);
  if (typeof value === 'boolean') return lang === 'en' ? (value ? 'yes' : 'no') : value ? '是' : '否';
  return String(value);
}
