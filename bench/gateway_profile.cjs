// Loaded into the gateway by `python -m bench --profile` (node --require): samples the
// gateway's CPU from its start until it is stopped and writes a V8 profile
// (gateway-<pid>.cpuprofile: Chrome DevTools or speedscope open it) into
// SHOP_BENCH_CPU_PROFILE_DIR. `node --cpu-prof` cannot be used: it writes only on a normal exit,
// and the gateway is stopped by a signal.
const inspector = require('node:inspector');
const fs = require('node:fs');
const path = require('node:path');

const folder = process.env.SHOP_BENCH_CPU_PROFILE_DIR;
const session = new inspector.Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: 1000 }); // microseconds
session.post('Profiler.start');

let written = false;
function write() {
  if (written || !folder) return;
  written = true;
  session.post('Profiler.stop', (error, result) => {
    if (!error) {
      fs.writeFileSync(path.join(folder, `gateway-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    }
  });
}

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.prependOnceListener(signal, () => {
    write();
    // Nobody else handles it: die of it as node would have.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}
process.on('exit', write);
