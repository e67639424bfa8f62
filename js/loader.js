// Loads a wasm build once and returns its exports. In a browser the .wasm is compiled as it
// streams in (or from its bytes when the server sends a wrong MIME type); under Node it is
// read from disk, since Node's fetch cannot read file: URLs. The generated wasm-bindgen glue
// only instantiates it (`initSync`): its own fetching init, and the asset URL it names, are
// never imported, so bundlers see one wasm reference, `new URL(...)` next to each caller.
export function wasmLoader(defaultUrl, initSync) {
  let loading = null;
  return (url = defaultUrl) => {
    loading ??= load(url, initSync).catch((error) => {
      loading = null; // a later call may retry, e.g. after a network error
      throw error;
    });
    return loading;
  };
}

async function load(url, initSync) {
  const isNode = typeof process !== 'undefined' && process.versions?.node && typeof window === 'undefined';
  if (isNode && String(url).startsWith('file:')) {
    // A variable specifier keeps bundlers from pulling node:fs into browser builds.
    const fsModule = 'node:fs';
    const { readFileSync } = await import(fsModule);
    return initSync({ module: readFileSync(new URL(url)) });
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`fetching ${url} answered HTTP ${response.status}`);
  let module;
  try {
    module = await WebAssembly.compileStreaming(response.clone());
  } catch (error) {
    if (response.headers.get('content-type')?.startsWith('application/wasm')) throw error;
    module = await WebAssembly.compile(await response.arrayBuffer());
  }
  return initSync({ module });
}
