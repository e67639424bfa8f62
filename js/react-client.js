'use client';
// pqlkit/react under the `react-server` condition (Next.js App Router server components): the
// same bindings behind a client boundary, so a server layout can render <PqlkitProvider>.
// Named re-exports: Next refuses `export *` in a client boundary.
export { PqlkitProvider, PqlkitSlot, usePqlkit, usePrompt, useScore } from './react.js';
