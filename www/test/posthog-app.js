// The PostHog fixture of tests/e2e/posthog.test.js, bundled by esbuild with the real posthog-js:
// it sends its own events to this server (/sdk/posthog/…) and feeds pqlkit through
// pqlkit/posthog; pqlkit's beacons go to /pql/collect.
import posthog from 'posthog-js';
import { init } from 'pqlkit';
import { adapterRules, recordEvents } from './adapter-rules.js';
import { pqlkitPlugin } from 'pqlkit/posthog';

// Page views come from posthog's $pageview, so pqlkit's autocapture is off (else each counts twice).
// The export rule also needs role, which comes from posthog.setPersonProperties (a $set event).
const pql = await init({ rules: adapterRules({ role: 'admin' }), collector: { url: '/pql/collect' }, autocapture: false });
recordEvents(pql);
// `?hook=before_send` plugs pqlkit in through posthog's config instead of its eventCaptured event.
const query = new URLSearchParams(location.search);
const hook = query.get('hook') ?? 'eventCaptured';
// `?group=organization`: the app's PostHog group type for accounts is not `company`.
const plugin = pqlkitPlugin(pql, query.has('group') ? { groupType: query.get('group') } : {});
// Everything posthog-js sends goes to this server, uncompressed and one request per event; no
// flags, surveys, recordings or scripts of its own to load.
posthog.init('phc_test', {
  api_host: `${location.origin}/sdk/posthog`,
  disable_compression: true,
  request_batching: false,
  advanced_disable_flags: true,
  disable_external_dependency_loading: true,
  disable_session_recording: true,
  disable_surveys: true,
  autocapture: false,
  capture_pageview: 'history_change', // a $pageview on load and on each SPA navigation
  capture_pageleave: false,
  persistence: 'localStorage',
  // Chromium under playwright has navigator.webdriver set, which posthog-js takes for a bot and
  // drops every event of; this keeps them (marked $browser_type: 'bot').
  opt_out_useragent_filter: true,
  ...(hook === 'before_send' ? { before_send: plugin } : {}),
});
if (hook === 'eventCaptured') posthog.on('eventCaptured', plugin);
window.posthog = posthog;
window.pql = pql;
window.ready = true;
