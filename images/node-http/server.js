// Node.js `http` module: GET / -> "ok", /json -> a JSON message, /health -> 200.
// One source for node-http and node-snapshot: run as a script it listens at
// once; run by `node --build-snapshot` (node-snapshot's build) the listening
// is left to the start from the snapshot. Node 20 cannot keep the http module
// in a snapshot (its parser binding is a native handle V8 refuses to
// serialize), so `http` is loaded when listening, in both.
const v8 = require('v8');

const json = JSON.stringify({ message: 'Hello, World!' });

function handle(req, res) {
  if (req.url === '/json') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(json);
  } else if (req.url === '/health') {
    res.writeHead(200);
    res.end();
  } else if (req.url === '/') {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('ok');
  } else {
    res.writeHead(404);
    res.end();
  }
}

function listen() {
  require('http').createServer(handle).listen(Number(process.env.PORT), '127.0.0.1');
}

if (v8.startupSnapshot.isBuildingSnapshot()) {
  v8.startupSnapshot.setDeserializeMainFunction(listen);
} else {
  listen();
}
