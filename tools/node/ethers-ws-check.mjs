// ethers.js v6's WebSocketProvider against a JSON-RPC WebSocket (the sandbox's ws://…/rpc, or any node):
// it subscribes to new blocks and to a token's Transfer logs from the sender (eth_subscribe "newHeads"
// and "logs" with address and topics),
// sends a signed transfer over the same connection, and reports what the subscriptions delivered.
// Usage: node ethers-ws-check.mjs '<json>' with {url, abiPath, token, mnemonic, senderIndex, to, amount,
// apiKey?} (apiKey: sent as `Authorization: Bearer <apiKey>` on the upgrade request). Prints one JSON
// object on stdout.
import { readFileSync } from "node:fs";
import WebSocket from "ws";
import { Contract, HDNodeWallet, WebSocketProvider, zeroPadValue } from "ethers";

const input = JSON.parse(process.argv[2]);
const abi = JSON.parse(readFileSync(input.abiPath, "utf8")).abi;
const headers = input.apiKey ? { Authorization: `Bearer ${input.apiKey}` } : {};
const provider = new WebSocketProvider(() => new WebSocket(input.url, { headers }));
const wallet = HDNodeWallet.fromPhrase(input.mnemonic, undefined, `m/44'/60'/0'/0/${input.senderIndex}`).connect(provider);
const token = new Contract(input.token, abi, wallet);
const timeout = (what) => new Promise((_, reject) => setTimeout(() => reject(new Error(`no ${what} within 90 s`)), 90_000));

const blocks = [];
const gotBlock = new Promise((resolve) => provider.on("block", (n) => { blocks.push(n); resolve(n); }));
const transferTopic = token.interface.getEvent("Transfer").topicHash;
const gotTransfer = new Promise((resolve) =>
  provider.on({ address: input.token, topics: [transferTopic, zeroPadValue(wallet.address, 32)] }, (log) => {
    const parsed = token.interface.parseLog(log);
    resolve({
      from: parsed.args[0],
      to: parsed.args[1],
      value: parsed.args[2].toString(),
      transactionHash: log.transactionHash,
      blockNumber: log.blockNumber,
    });
  })
);
await provider.getBlockNumber(); // a round trip after the subscriptions: they are installed by now

const tx = await token.transfer(input.to, BigInt(input.amount));
const receipt = await tx.wait();
const out = { hash: tx.hash, status: receipt.status, blockNumber: receipt.blockNumber };
out.transferEvent = await Promise.race([gotTransfer, timeout("Transfer event")]);
await Promise.race([gotBlock, timeout("block")]);
out.blocks = blocks;
console.log(JSON.stringify(out));
await provider.destroy();
process.exit(0);
