// A server component: PqlkitProvider (pqlkit/react, a 'use client' module) starts pqlkit on the
// client after hydration; the server renders the page without it.
import { PqlkitProvider } from 'pqlkit/react';
import rules from '../../rules.json';

export const metadata = { title: 'pqlkit smoke: Next.js' };

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>
        <PqlkitProvider options={{ rules, storage: 'memory' }}>{children}</PqlkitProvider>
      </body>
    </html>
  );
}
