/**
 * The floor of any TPM served by Node.js on this machine, for `npm run bench`: a server on the
 * swtpm data protocol that frames each command and answers TPM_RC_SUCCESS without doing any TPM
 * work. Its round-trip rate against swtpm's bounds what mrtpm's ratio can reach.
 */
import net from 'node:net';

const SUCCESS = Buffer.from('80010000000a00000000', 'hex');
const port = Number(process.argv[2]);

net.createServer({ noDelay: true }, (socket) => {
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 10 && pending.length >= pending.readUInt32BE(2)) {
      pending = pending.subarray(pending.readUInt32BE(2));
      socket.write(SUCCESS);
    }
  });
}).listen(port, '127.0.0.1');
