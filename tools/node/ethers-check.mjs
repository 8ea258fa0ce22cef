// A client nobody here wrote: ethers.js v6 against a JSON-RPC endpoint (the sandbox's, or any node).
// Usage: node ethers-check.mjs '<json>' with {url, abiPath, token, mnemonic, senderIndex, to, amount,
// stranger, apiKey?} (apiKey: sent as `Authorization: Bearer <apiKey>`, as the sandbox's /rpc needs).
// Reads balances, sends a signed transfer, then tries a refused transfer twice: once as
// ethers does by default (gas estimation reverts) and once with a fixed gas limit (the transaction is
// mined and fails). Prints one JSON object on stdout.
import { readFileSync } from "node:fs";
import { Contract, FetchRequest, HDNodeWallet, JsonRpcProvider } from "ethers";

const input = JSON.parse(process.argv[2]);
const abi = JSON.parse(readFileSync(input.abiPath, "utf8")).abi;
// No response cache: ethers otherwise replays an identical eth_getTransactionCount for 250 ms, and on a
// fast node the next transaction would reuse a spent nonce.
const endpoint = new FetchRequest(input.url);
if (input.apiKey) endpoint.setHeader("Authorization", `Bearer ${input.apiKey}`);
const provider = new JsonRpcProvider(endpoint, undefined, { cacheTimeout: -1 });
const wallet = HDNodeWallet.fromPhrase(input.mnemonic, undefined, `m/44'/60'/0'/0/${input.senderIndex}`).connect(provider);
const token = new Contract(input.token, abi, wallet);
const out = { sender: wallet.address, chainId: (await provider.getNetwork()).chainId.toString() };

out.symbol = await token.symbol();
out.senderBefore = (await token.balanceOf(wallet.address)).toString();
out.toBefore = (await token.balanceOf(input.to)).toString();

const tx = await token.transfer(input.to, BigInt(input.amount));
const receipt = await tx.wait();
out.transfer = { hash: tx.hash, status: receipt.status, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed.toString() };
out.transferEvents = receipt.logs.map((log) => token.interface.parseLog(log)?.name ?? null);
out.senderAfter = (await token.balanceOf(wallet.address)).toString();
out.toAfter = (await token.balanceOf(input.to)).toString();

function describe(error) {
  const parsed = error.data ? token.interface.parseError(error.data) : null;
  return {
    code: error.code ?? null,
    data: error.data ?? null,
    revertName: error.revert?.name ?? null,
    revertArgs: error.revert ? error.revert.args.map(String) : null,
    parsedName: parsed?.name ?? null,
    parsedArgs: parsed ? parsed.args.map(String) : null,
  };
}

try {
  await token.transfer(input.stranger, 1n);
  out.refused = { error: null };
} catch (error) {
  out.refused = describe(error);
}

try {
  const failing = await token.transfer(input.stranger, 1n, { gasLimit: 500000n });
  out.minedFailure = { hash: failing.hash };
  await failing.wait();
  out.minedFailure.error = null;
} catch (error) {
  out.minedFailure = { ...(out.minedFailure ?? {}), code: error.code ?? null, status: error.receipt?.status ?? null, receiptHash: error.receipt?.hash ?? null };
}

out.senderFinal = (await token.balanceOf(wallet.address)).toString();
provider.destroy();
console.log(JSON.stringify(out));
