// Drive the XAPI emulator with Xen Orchestra's own client library (npm `xen-api`), as XO does:
// connect (login, pool.get_all_records, system.listMethods), watch events (event.inject, then
// get_all_records of every class listed and event.from in a loop), then create a network and wait
// for it to arrive through the event loop. Prints one JSON line with what the client saw.
//   node xen_api_client.mjs <dir holding node_modules/xen-api> <url> <user> <password>
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const [dir, url, user, password] = process.argv.slice(2)
const { createClient } = await import(pathToFileURL(join(dir, 'node_modules', 'xen-api', 'index.mjs')).href)

const fail = message => {
  console.log(JSON.stringify({ error: String(message) }))
  process.exit(1)
}
const timer = setTimeout(() => fail('timed out'), 60e3)

const xapi = createClient({ url, auth: { user, password }, debounce: 50 })
try {
  await xapi.connect()
  await xapi.objectsFetched
  const types = {}
  for (const object of Object.values(xapi.objects.all)) {
    types[object.$type] = (types[object.$type] ?? 0) + 1
  }
  const arrived = new Promise(resolve => {
    xapi.objects.on('add', objects => {
      for (const object of Object.values(objects)) {
        if (object.$type === 'network' && object.name_label === 'from-xen-api') resolve(object)
      }
    })
  })
  const ref = await xapi.call('network.create', {
    name_label: 'from-xen-api', name_description: 'made by xen-api', MTU: 1500, other_config: {},
  })
  const network = await arrived
  console.log(JSON.stringify({
    pool: xapi.pool.$ref, master: xapi.pool.master, types, ref, seen: network.$ref, MTU: network.MTU,
    status: xapi.status,
  }))
  clearTimeout(timer)
  await xapi.disconnect()
  process.exit(0)
} catch (error) {
  fail(error?.stack ?? error)
}
