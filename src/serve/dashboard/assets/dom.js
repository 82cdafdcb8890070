// Small DOM and formatting helpers. Every piece of data goes in as text (never as HTML), so
// nothing read from the database can inject markup into the page.

/** An element with attributes (`class`, `data-*`, `title`, …) and children (nodes or text). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'onclick') element.addEventListener('click', value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Number.POSITIVE_INFINITY)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Replace the children of the element with this id. */
export function fill(id, ...children) {
  document.getElementById(id).replaceChildren(...children.flat().filter((c) => c != null && c !== false));
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/** 1234567 → "1,234,567". */
export function count(n) {
  return n === null || n === undefined ? '–' : integer.format(n);
}

/** A rate in documents per second, compact. */
export function rate(n) {
  if (n === null || n === undefined) return '–';
  return n >= 100 ? integer.format(n) : oneDecimal.format(n);
}

/** Seconds as "1 h 02 min", "3 min 05 s" or "12 s". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** An ISO time as local "HH:MM:SS", with the full time on hover. */
export function time(iso) {
  if (!iso) return h('span', { class: 'muted' }, '–');
  const date = new Date(iso);
  return h('time', { datetime: iso, title: date.toString() }, date.toLocaleTimeString('en-GB'));
}

/** How long ago an ISO time was, in words. */
export function ago(iso, now = Date.now()) {
  if (!iso) return '–';
  return `${duration(Math.max(0, (now - new Date(iso).getTime()) / 1000))} ago`;
}

/** A coloured label. */
export function pill(text, tone = 'plain') {
  return h('span', { class: `pill ${tone}` }, text);
}

/** A table from headers (a leading '#' marks a numeric column) and rows of cells. */
export function table(headers, rows, rowAttributes = () => ({})) {
  const numeric = headers.map((header) => header.startsWith('#'));
  return h(
    'table',
    {},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((header, i) => h('th', { class: numeric[i] ? 'n' : '' }, header.replace(/^#/, ''))),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((cells, r) =>
        h(
          'tr',
          rowAttributes(r),
          cells.map((cell, i) => h('td', { class: numeric[i] ? 'n' : '' }, cell)),
        ),
      ),
    ),
  );
}

/** The text shown when a section has nothing yet. */
export function empty(text) {
  return h('p', { class: 'empty' }, text);
}
