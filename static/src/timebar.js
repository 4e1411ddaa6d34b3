// timebar: the 截至日期 control in the top bar — a date and an optional time
// that put the whole map at that instant (when.js; api.js and source.js add
// asof= to every read) — and the badge on the map that says, while it
// shows the past, which instant it shows, with a way back to now.
import { $, toast } from './dom.js';
import { onLangChange, t } from './i18n.js';
import { asOfPick, instantOf, isFuture, officeParts, setAsOf } from './when.js';

export function initTimebar() {
  const date = $('#asof-date');
  const time = $('#asof-time');
  const now = $('#asof-now');
  const badge = $('#asof-badge');
  // the inputs keep what was typed (a date of today waits for its time); the
  // badge and the 现在 button say what the map shows
  const fill = () => {
    const p = asOfPick();
    date.value = p ? p.date : '';
    time.value = p ? p.time : '';
  };
  const show = () => {
    const p = asOfPick();
    date.max = officeParts(Date.now()).date;
    now.disabled = !p && !date.value && !time.value;
    badge.hidden = !p;
    document.body.classList.toggle('past', !!p);
    $('#asof-badge-text').textContent = p ? t('asof.badge.text', { at: p.time ? `${p.date} ${p.time}` : p.date }) : '';
  };
  const apply = () => {
    const instant = date.value ? instantOf(date.value, time.value) : null;
    if (date.value && !instant) return; // a time half typed: wait for the rest
    if (instant && isFuture(instant)) toast(t('asof.future'));
    setAsOf(date.value, time.value);
    show();
  };
  const back = () => {
    setAsOf('');
    fill();
    show();
  };
  date.addEventListener('change', apply);
  time.addEventListener('change', apply);
  now.addEventListener('click', back);
  $('#asof-badge-now').addEventListener('click', back);
  onLangChange(show);
  fill();
  show();
}
