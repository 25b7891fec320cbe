// Piggyback: no request of its own. Events ride on the answers to the app's own requests
// (send `since=<conn.cursor>` with them), and the app hands each answer to `conn.absorb()`.
// The connection counts as open from the first answer absorbed.

/** @type {import('../reverse-ajax.js').Transport} */
export default {
  name: 'piggyback',
  passive: true,
  open: () => () => {},
};
