/**
 * The text with `token` put over the selection of `el` (at the end without one); once the new text
 * is rendered, the caret sits after the token, where the operator goes on typing.
 */
export function insertAtCaret(el: HTMLTextAreaElement | null | undefined, text: string, token: string): string {
  const [start, end] = el ? [el.selectionStart, el.selectionEnd] : [text.length, text.length];
  requestAnimationFrame(() => {
    el?.focus();
    el?.setSelectionRange(start + token.length, start + token.length);
  });
  return text.slice(0, start) + token + text.slice(end);
}
