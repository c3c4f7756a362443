// A static file server for the demo page and the browser tests (Node.js only, no
// dependencies). It serves the repository (the page under /web/, the zoo's bundles
// under /export/) on 127.0.0.1 with the headers that let ONNX Runtime Web use several
// threads (cross-origin isolation), and nothing else.
//
//   node web/serve.mjs [--port 8080] [--root DIR] [--mount /url/=DIR ...]
//
// Usage from code: `const server = await serve({port: 0, mounts})`, `server.url`,
// `server.close()`.

import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8", ".json": "application/json; charset=utf-8",
  ".css": "text/css; charset=utf-8", ".wasm": "application/wasm", ".onnx": "application/octet-stream",
  ".txt": "text/plain; charset=utf-8", ".md": "text/plain; charset=utf-8", ".png": "image/png",
  ".svg": "image/svg+xml", ".map": "application/json",
};

// `mounts`: {"/url/prefix/": "/directory"}; the longest matching prefix wins.
export function serve({ port = 8080, host = "127.0.0.1", root = path.dirname(HERE), mounts = {} } = {}) {
  const table = Object.entries({ "/": root, ...mounts }).sort((a, b) => b[0].length - a[0].length);
  const server = http.createServer((request, response) => {
    const headers = {
      "Cross-Origin-Opener-Policy": "same-origin",
      "Cross-Origin-Embedder-Policy": "require-corp",
      "Cache-Control": "no-store",
    };
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(request.url, "http://localhost").pathname);
    } catch {
      response.writeHead(400, headers).end("bad request");
      return;
    }
    const [prefix, directory] = table.find(([p]) => pathname.startsWith(p));
    const base = path.resolve(directory);
    let file = path.join(base, pathname.slice(prefix.length));
    if (file !== base && !file.startsWith(base + path.sep)) {  // ".." out of the root
      response.writeHead(403, headers).end("forbidden");
      return;
    }
    fs.stat(file, (error, stat) => {
      if (!error && stat.isDirectory()) {
        if (!pathname.endsWith("/")) {
          response.writeHead(301, { ...headers, Location: `${pathname}/` }).end();
          return;
        }
        file = path.join(file, "index.html");
      }
      fs.readFile(file, (readError, data) => {
        if (readError) {
          response.writeHead(404, { ...headers, "Content-Type": "text/plain" }).end(`not found: ${pathname}`);
          return;
        }
        const type = TYPES[path.extname(file)] ?? "application/octet-stream";
        response.writeHead(200, { ...headers, "Content-Type": type, "Content-Length": data.length }).end(data);
      });
    });
  });
  return new Promise((resolve, reject) => {
    server.on("error", reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve({ url: `http://${host}:${address.port}`, close: () => new Promise((done) => server.close(done)), server });
    });
  });
}

function parseArguments(argv) {
  const options = { mounts: {} };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === "--port") options.port = Number(value);
    else if (flag === "--root") options.root = path.resolve(value);
    else if (flag === "--mount") {
      const [prefix, directory] = value.split("=");
      options.mounts[prefix.endsWith("/") ? prefix : `${prefix}/`] = path.resolve(directory);
    } else {
      console.error(`unknown argument ${flag}: use --port N, --root DIR, --mount /url/=DIR`);
      process.exit(2);
    }
    i++;
  }
  return options;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const server = await serve(parseArguments(process.argv.slice(2)));
  console.log(`keras_s2s demo: ${server.url}/web/  (Ctrl-C stops)`);
}
