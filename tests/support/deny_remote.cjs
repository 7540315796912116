// Preloaded into the heroku CLI under test (NODE_OPTIONS=--require): any lookup of a host other
// than this machine is refused and written to OSTIARY_REMOTE_LOG, so a test can prove that
// nothing tried to reach heroku.com or anywhere else.
'use strict'
const dns = require('node:dns')
const fs = require('node:fs')

const LOCAL = new Set(['localhost', '127.0.0.1', '::1'])
const logPath = process.env.OSTIARY_REMOTE_LOG

function refuse(hostname) {
  if (logPath) fs.appendFileSync(logPath, `${hostname}\n`)
  const error = new Error(`lookup of ${hostname} refused by the test harness`)
  error.code = 'ENOTFOUND'
  return error
}

const lookup = dns.lookup
dns.lookup = function (hostname, options, callback) {
  if (typeof options === 'function') {
    callback = options
    options = {}
  }
  if (!LOCAL.has(hostname)) {
    process.nextTick(callback, refuse(hostname))
    return {}
  }
  return lookup.call(this, hostname, options, callback)
}

const promisesLookup = dns.promises.lookup
dns.promises.lookup = async function (hostname, options) {
  if (!LOCAL.has(hostname)) throw refuse(hostname)
  return promisesLookup.call(this, hostname, options)
}
