// Node.js `http` module: GET / -> "ok", /json -> a JSON message, /health -> 200.
const http = require('http');

const json = JSON.stringify({ message: 'Hello, World!' });
http
  .createServer((req, res) => {
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
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
