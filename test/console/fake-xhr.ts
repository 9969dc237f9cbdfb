import { vi } from 'vitest';

/** Stands in for XMLHttpRequest (the Import page uploads with it for progress): answers every send with `status` and `answer`; returns what was sent. */
export function fakeXhr(status: number, answer: unknown) {
  const sent: Array<{ method: string; url: string; body: unknown }> = [];
  class FakeXhr {
    status = 0;
    statusText = '';
    responseText = '';
    upload: { onprogress: ((e: ProgressEvent) => void) | null; onload: (() => void) | null } = { onprogress: null, onload: null };
    onload: (() => void) | null = null;
    onerror: (() => void) | null = null;
    private method = '';
    private url = '';
    open(method: string, url: string) {
      this.method = method;
      this.url = url;
    }
    setRequestHeader() {}
    send(body: unknown) {
      sent.push({ method: this.method, url: this.url, body });
      queueMicrotask(() => {
        this.upload.onload?.();
        this.status = status;
        this.responseText = JSON.stringify(answer);
        this.onload?.();
      });
    }
  }
  vi.stubGlobal('XMLHttpRequest', FakeXhr);
  return sent;
}
