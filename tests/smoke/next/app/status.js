'use client';
import { usePqlkit } from 'pqlkit/react';

/** `loading` on the server and until init resolved on the client. */
export function Status() {
  return <p id="status">{usePqlkit() ? 'ready' : 'loading'}</p>;
}
