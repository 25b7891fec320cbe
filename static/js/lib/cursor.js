// The bookmark a client sends back to the server: the id of the last event it has.
// It starts from the head the server wrote into the page (the log's `data-next`), or
// empty (the server then answers with the current head), and follows `next`.

export function createCursor(start = document.getElementById('log')?.dataset.next) {
  let since = start || null;
  return {
    /** The current bookmark, or null before the first answer. */
    get since() {
      return since;
    },

    /** `since=<id>` ready for a query string, or '' when there is no bookmark yet. */
    query() {
      return since ? `since=${encodeURIComponent(since)}` : '';
    },

    /** `path` with `?since=<id>` added once there is a bookmark. */
    url(path) {
      return since ? `${path}?since=${encodeURIComponent(since)}` : path;
    },

    /** Takes an answer's `next`; logs it when the server had to reset the bookmark. */
    update(answer, log) {
      if (answer.reset && log) {
        log.client(`cursor reset by the server: some events may be missing; continuing from ${answer.next}`);
      }
      if (answer.next) since = answer.next;
    },
  };
}
