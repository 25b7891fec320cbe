// The resume cursor: one per channel and origin, kept in sessionStorage so that a reload or a
// change of transport resumes where the last connection stopped. It also remembers the ids
// it has delivered lately, so an event that two transports carry (during a switch, or after
// a reconnection that resumed from an older id) is handed over once.

const RECENT = 512;

/** A Storage, or an in-memory stand-in when the browser refuses it. */
export function safeStorage(get) {
  try {
    const store = get();
    store.getItem('ra');
    return store;
  } catch {
    const memory = new Map();
    return {
      getItem: (key) => (memory.has(key) ? memory.get(key) : null),
      setItem: (key, value) => void memory.set(key, String(value)),
    };
  }
}

/**
 * @param {Pick<Storage, 'getItem' | 'setItem'>} storage
 * @param {string} key where this channel's cursor lives
 * @param {string | null | undefined} since the caller's start: an id, 'now', or undefined for the stored cursor
 */
export function createCursorStore(storage, key, since) {
  let id = since === undefined ? storage.getItem(key) : since === 'now' ? null : since;
  const recent = new Set();
  return {
    /** The id of the last event delivered (or the head to start from), or null for "now". */
    get id() {
      return id;
    },
    /** Moves the cursor (an answer's `next`, a reset's head) without delivering anything. */
    move(next) {
      if (!next || next === id) return;
      id = next;
      try {
        storage.setItem(key, next);
      } catch {
        // A full or refused storage only costs the resume after a reload.
      }
    },
    /** True the first time `event` is offered (and moves the cursor to it); false for a duplicate. */
    take(event) {
      if (!event || typeof event.id !== 'string' || recent.has(event.id)) return false;
      recent.add(event.id);
      if (recent.size > RECENT) recent.delete(recent.values().next().value);
      this.move(event.id);
      return true;
    },
  };
}
