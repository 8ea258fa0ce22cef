// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

import {TransferRules} from "../token/TransferRules.sol";

/// @title TransferRulebook
/// @notice Serves the rulebook's sentences (`TransferRules.message`) from a contract of its own, so
/// that the token's code stays under the EIP-170 size limit. Stateless: one instance serves every
/// token of a market.
contract TransferRulebook {
    /// @notice ERC-1404: "NAME: sentence (source)" for a restriction code.
    function messageForTransferRestriction(uint8 restrictionCode) external pure returns (string memory) {
        return TransferRules.message(restrictionCode);
    }
}
