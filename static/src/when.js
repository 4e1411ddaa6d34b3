// when: the instant the map shows — now, or a past instant picked as a date
// and an optional time. Dates and times are read and shown on the office's
// clock (UTC+8) whatever the browser's zone, so that a shared link means the
// same instant everywhere. A date alone means the end of that day ("截至
// 2019-12-31": everything written that day included). The address keeps the
// pick (&asof=2019-12-31 or &asof=2019-12-31T10:30:00); modules that show
// data follow a change through onAsOfChange.
import { addressGet, addressSet } from './address.js';

export const OFFICE_ZONE = '+08:00';
const OFFICE_MS = 8 * 3600 * 1000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIME = /^\d{2}:\d{2}(:\d{2})?$/;

let pick = null; // {date, time}: time '' for the end of the day
const listeners = [];

// The RFC 3339 instant of a date and an optional time (HH:MM or HH:MM:SS), or null.
export function instantOf(date, time = '') {
  if (!DATE.test(date || '') || (time && !TIME.test(time))) return null;
  const t = !time ? '23:59:59' : time.length === 5 ? `${time}:00` : time;
  return `${date}T${t}${OFFICE_ZONE}`;
}

// {date, time} of an instant (a Date, milliseconds or an RFC 3339 string) on the office's clock.
export function officeParts(when) {
  const ms = typeof when === 'string' ? Date.parse(when) : +when;
  const s = new Date(ms + OFFICE_MS).toISOString();
  return { date: s.slice(0, 10), time: s.slice(11, 19) };
}

// "2019-12-31 23:59:59" on the office's clock, for people.
export function showInstant(when) {
  const p = officeParts(when);
  return `${p.date} ${p.time}`;
}

export function isFuture(instant) {
  return Date.parse(instant) > Date.now();
}

// The start of a year (and of a month, 1-12) on the office's clock; the
// end of a period that reaches past now is null (the server's "now").
export function yearStart(y) {
  return `${y}-01-01T00:00:00${OFFICE_ZONE}`;
}
export function monthStart(y, m) {
  return m > 12 ? yearStart(y + 1) : `${y}-${String(m).padStart(2, '0')}-01T00:00:00${OFFICE_ZONE}`;
}
export function periodEnd(instant) {
  return isFuture(instant) ? null : instant;
}
export function officeYear() {
  return Number(officeParts(Date.now()).date.slice(0, 4));
}

// The instant the map shows (RFC 3339), or null for now.
export function asOf() {
  return pick ? instantOf(pick.date, pick.time) : null;
}

// What was picked: {date, time} or null.
export function asOfPick() {
  return pick ? { ...pick } : null;
}

// Puts the map at a date (and time), or back to now (date empty). A pick
// that is not yet past is now. Returns the instant, or null for now.
export function setAsOf(date, time = '') {
  const instant = date ? instantOf(date, time) : null;
  const next = instant && !isFuture(instant) ? { date, time: time || '' } : null;
  const changed = JSON.stringify(next) !== JSON.stringify(pick);
  pick = next;
  addressSet('asof', pick ? (pick.time ? `${pick.date}T${pick.time}` : pick.date) : null);
  if (changed) for (const f of listeners) f(asOf());
  return asOf();
}

// The pick kept in the address, read once at start (before anything
// loads, so without telling anyone). Also takes a full instant with its zone.
export function restoreAsOf() {
  const v = addressGet('asof');
  if (!v) return null;
  let m = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}(?::\d{2})?))?$/.exec(v);
  let date = m && m[1];
  let time = (m && m[2]) || '';
  if (!m && !Number.isNaN(Date.parse(v)) && /T.*(Z|[+-]\d{2}:\d{2})$/.test(v)) {
    ({ date, time } = officeParts(v));
    m = true;
  }
  const instant = m ? instantOf(date, time) : null;
  pick = instant && !isFuture(instant) ? { date, time } : null;
  addressSet('asof', pick ? (pick.time ? `${pick.date}T${pick.time}` : pick.date) : null);
  return asOf();
}

// f(instant or null) runs after every change of the map's instant.
export function onAsOfChange(f) {
  listeners.push(f);
}
