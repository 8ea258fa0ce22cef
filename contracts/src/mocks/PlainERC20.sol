// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title PlainERC20
/// @notice An unrestricted OpenZeppelin ERC-20, the baseline of the gas benchmarks. Not for issuing.
contract PlainERC20 is ERC20 {
    /// @param supply Minted to the deployer.
    constructor(uint256 supply) ERC20("Plain", "PLN") {
        _mint(msg.sender, supply);
    }
}
