'use client';
// A Next.js App Router app as a customer writes it: `npm install pqlkit`, no configuration.
import { useEffect, useState } from 'react';
import { init } from 'pqlkit';
import rules from '../../rules.json';

export function Pqlkit() {
  const [status, setStatus] = useState('loading');
  useEffect(() => {
    let pql;
    let live = true;
    init({ rules, storage: 'memory' }).then(
      (instance) => {
        if (!live) return instance.destroy();
        pql = instance;
        setStatus('ready');
      },
      (error) => setStatus(`failed: ${error.code}`),
    );
    return () => {
      live = false;
      pql?.destroy();
    };
  }, []);
  return <p id="status">{status}</p>;
}
