// Script-tag build: <script src=".../pqlkit/js/pqlkit.global.js"></script> then
// `window.pqlkit.init(options)`. The module itself loads on the first call.
(function () {
  var base = document.currentScript && document.currentScript.src;
  var load = function () {
    return import(new URL('./pqlkit.min.js', base || location.href).href);
  };
  window.pqlkit = {
    init: function (options) {
      return load().then(function (m) {
        return m.init(options);
      });
    },
  };
})();
