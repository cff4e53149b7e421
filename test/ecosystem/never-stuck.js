// The "Never stuck" snippet of docs/options.md, as a JavaScript user writes it: nothing checks that this Fastify has
// handlerTimeout or request.signal, so on Fastify 5.0-5.7 the route carries an option Fastify ignores and
// the handler passes `undefined` as the signal.
export function neverStuck (app, { db, sql, render }) {
  app.post('/exports', { handlerTimeout: 120_000, config: { processing: true } }, async (request) => {
    const rows = await db.query(sql, { signal: request.signal }) // stops when the client leaves
    return render(rows)
  })
}
