// Express, the framework most Node services use: the same three endpoints.
const express = require('express');

const app = express();
app.disable('x-powered-by');
app.get('/', (req, res) => res.type('text/plain').send('ok'));
app.get('/json', (req, res) => res.json({ message: 'Hello, World!' }));
app.get('/health', (req, res) => res.sendStatus(200));
app.listen(Number(process.env.PORT), '127.0.0.1');
