// A Vite + React app as a customer writes it: `npm install pqlkit`, no configuration.
import { createElement as h, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { init } from 'pqlkit';
import rules from '../rules.json';

function App() {
  const [status, setStatus] = useState('loading');
  useEffect(() => {
    let pql;
    let live = true;
    init({ rules, storage: 'memory', collector: { url: '/pql/collect' } }).then((instance) => {
      if (!live) return instance.destroy();
      pql = instance;
      setStatus('ready');
    }, (error) => setStatus(`failed: ${error.code}`));
    return () => {
      live = false;
      pql?.destroy();
    };
  }, []);
  return h('main', null, h('p', { id: 'status' }, status), h('button', { 'data-pqlkit-feature': 'export' }, 'Export report'));
}

createRoot(document.getElementById('root')).render(h(App));
