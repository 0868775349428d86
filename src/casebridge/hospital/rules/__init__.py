"""Pure hospital case-management rules (no Django): scores, clocks and regulatory checks, each naming its source."""
