// A Vite + React app as a customer writes it: `npm install pqlkit`, no configuration, the
// provider of pqlkit/react under StrictMode (one init, one prompt).
import { createElement as h, StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { PqlkitProvider, usePqlkit } from 'pqlkit/react';
import rules from '../rules.json';

function Status() {
  return h('p', { id: 'status' }, usePqlkit() ? 'ready' : 'loading');
}

const options = { rules, storage: 'memory', collector: { url: '/pql/collect' } };
createRoot(document.getElementById('root')).render(
  h(StrictMode, null, h(PqlkitProvider, { options }, h('main', null, h(Status), h('button', { 'data-pqlkit-feature': 'export' }, 'Export report')))),
);
