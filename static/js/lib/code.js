// Code panels: the Copy button puts the whole file on the clipboard. Without this script the
// button stays hidden, since it could do nothing. The text is the code element's text, so
// the line numbers (drawn by the stylesheet) are not part of it.

const SHOWN_MS = 2000;

/** Selects the file's text and opens its panel, so the reader can copy it by hand. */
function selectByHand(code) {
  const details = code.closest('details');
  if (details) details.open = true;
  const range = document.createRange();
  range.selectNodeContents(code);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

async function copy(button, status) {
  const code = document.getElementById(button.dataset.copy);
  if (!code) return;
  status.classList.remove('failed');
  try {
    // Missing outside secure contexts (plain http on another host than localhost).
    if (!navigator.clipboard) throw new Error('no clipboard here');
    await navigator.clipboard.writeText(code.textContent);
    button.textContent = 'Copied';
    button.classList.add('copied');
    status.textContent = 'The whole file is on the clipboard.';
    setTimeout(() => {
      button.textContent = 'Copy';
      button.classList.remove('copied');
      status.textContent = '';
    }, SHOWN_MS);
  } catch {
    selectByHand(code);
    status.classList.add('failed');
    status.textContent = 'This browser did not allow copying: the file is selected, press Ctrl+C (⌘C on a Mac).';
  }
}

for (const button of document.querySelectorAll('.code-copy[data-copy]')) {
  const status = button.parentElement.querySelector('.code-copy-status');
  button.addEventListener('click', () => copy(button, status));
  button.hidden = false;
}
