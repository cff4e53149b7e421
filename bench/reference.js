// The hand-written reference of issue 19: what a user would write instead of this plugin, as a route
// onRequest hook. One Timeout per request, re-armed as an interval after the first 102, each tick calling
// res.writeProcessing(); cleared when the response closes. Shared by the servers that measure against it.
export function handWritten (threshold, interval) {
  return (request, reply, done) => {
    const res = reply.raw
    let timer = setTimeout(() => {
      res.writeProcessing()
      timer = setInterval(() => { res.writeProcessing() }, interval)
    }, threshold)
    res.once('close', () => clearTimeout(timer))
    done()
  }
}
