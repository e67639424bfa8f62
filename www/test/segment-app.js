// The Segment fixture of tests/e2e/segment.test.js, bundled by esbuild with the real
// @segment/analytics-next: analytics.js sends its own events to this server (/sdk/segment/v1/…)
// and feeds pqlkit through pqlkit/segment; pqlkit's beacons go to /pql/collect.
import { AnalyticsBrowser } from '@segment/analytics-next';
import { init } from 'pqlkit';
import { adapterRules, recordEvents } from './adapter-rules.js';
import { pqlkitPlugin } from 'pqlkit/segment';

// Settings given inline: no request for them; the Segment.io destination posts here.
const analytics = AnalyticsBrowser.load({
  writeKey: 'wk_test',
  cdnSettings: { integrations: { 'Segment.io': { apiKey: 'wk_test', apiHost: `${location.host}/sdk/segment/v1`, protocol: 'http' } } },
});
// Page views come from analytics.page(), so pqlkit's autocapture is off (else each counts twice).
const pql = await init({ rules: adapterRules(), collector: { url: '/pql/collect' }, autocapture: false });
recordEvents(pql);
await analytics.register(pqlkitPlugin(pql));
window.analytics = analytics;
window.pql = pql;
window.ready = true;
