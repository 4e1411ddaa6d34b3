// period: what happened in a period, from the server (/summary?from=&to=):
// the office's figures (land acquired, floor area demolished with its main
// houses and graves, bases planted per crop, communities that joined the
// 红色物业联盟, each with the features behind it) and each layer's changes;
// for a year or a month on the office's clock, over the whole office or an
// area ({within: 'villages/3'}, {bbox}). A period reaching past now ends now.
import { getJSON } from './api.js';
import { isFuture, monthStart, periodEnd, yearStart } from './when.js';

// {from, to}: to null for now
export function yearPeriod(y) {
  return { from: yearStart(y), to: periodEnd(yearStart(y + 1)) };
}

export function periodSummary(period, area = {}) {
  return getJSON('/summary', { ...area, from: period.from, to: period.to || undefined });
}

// Each month's summary of year y (null for a month not yet begun), a few
// requests at a time so that the light requests of the map still pass.
export async function monthlySummaries(y, area = {}, width = 3) {
  const out = new Array(12).fill(null);
  let next = 1;
  const worker = async () => {
    while (next <= 12) {
      const m = next++;
      const from = monthStart(y, m);
      if (!isFuture(from)) out[m - 1] = await periodSummary({ from, to: periodEnd(monthStart(y, m + 1)) }, area);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return out;
}
