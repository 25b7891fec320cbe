// The static timeline pictures on a narrow screen. Each is drawn 660 units wide; on a phone,
// scaled to the width its text would be too small to read, and scrolled, half of it (often
// the end its caption talks about) sat off the screen. So there it is shown in two halves,
// one above the other, each at a readable size: the first half, then the rest, with a little
// overlap so that no mark is cut in two.

const NARROW = '(max-width: 40rem)';
const WIDTH = 660;
const HALF = 360; // the second half starts at WIDTH - HALF = 300

/** Splits every static timeline of `doc` in two when the screen is narrow. */
export function splitTimelines(doc = document) {
  if (!window.matchMedia?.(NARROW).matches) return;
  for (const svg of doc.querySelectorAll('.timeline-scroll > svg.timeline')) {
    const box = svg.viewBox.baseVal;
    if (!box || box.width !== WIDTH) continue;
    const rest = svg.cloneNode(true);
    // One picture for assistive technology: the copy is only its continuation on screen.
    rest.removeAttribute('aria-labelledby');
    rest.setAttribute('aria-hidden', 'true');
    for (const node of rest.querySelectorAll('[id]')) node.removeAttribute('id');
    rest.querySelector('title')?.remove();
    svg.setAttribute('viewBox', `0 0 ${HALF} ${box.height}`);
    rest.setAttribute('viewBox', `${WIDTH - HALF} 0 ${HALF} ${box.height}`);
    rest.classList.add('timeline-rest');
    svg.after(rest);
  }
}

splitTimelines();
