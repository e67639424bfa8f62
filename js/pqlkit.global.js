// Script-tag build: <script src=".../pqlkit/js/pqlkit.global.js"></script> then
// `window.pqlkit.init(options)`. The module itself loads on the first call, from next to this
// script. Imported through a bundler (`import 'pqlkit/global'`) the current script, if any, is
// the app's bundle: the literal import lets the bundler include the module as a lazy chunk.
(function () {
  var src = document.currentScript && document.currentScript.src;
  var base = /\/pqlkit\.global[^/]*\.js([?#]|$)/.test(src) && src;
  var load = base
    ? function () {
        return import(/* webpackIgnore: true */ /* @vite-ignore */ new URL('./pqlkit.min.js', base).href);
      }
    : function () {
        return import('./pqlkit.min.js');
      };
  window.pqlkit = {
    init: function (options) {
      return load().then(function (m) {
        return m.init(options);
      });
    },
  };
})();
