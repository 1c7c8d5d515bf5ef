// The head of an HTTP/1.1 response read off a raw socket (the bench's probes below any client:
// lib/receive-floor.mjs and reused-buffer-pull.mjs).

/**
 * Finds the response head in the first reads: `take(view)` keeps the bytes as text until the
 * blank line, then returns the body's part of that read (a view of `view`), and after it every
 * read whole; `undefined` while the head is still incomplete. `status` is 0 until then.
 */
export function responseHead() {
  let head = '';
  let status = 0;
  return {
    get status() {
      return status;
    },
    take(view) {
      if (status !== 0) return view;
      const seen = head.length;
      head += view.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return undefined;
      status = Number(head.slice(9, 12));
      return view.subarray(end + 4 - seen);
    },
  };
}
