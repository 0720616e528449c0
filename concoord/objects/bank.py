"""Bank accounts shared by processes: each operation is atomic, overdrafts are refused.

Amounts are positive numbers (int or float; bool is refused). Errors are builtin types, so that
the client catches them as themselves:

- KeyError: no such account (or, for ``open``, ValueError: the account exists already);
- ValueError: a non-positive amount, or a withdrawal or transfer larger than the balance
  (nothing changes then: the balance never goes below zero);
- TypeError: an amount that is not a number.
"""

from concoord import readonly
from concoord.objects._state import PlainState


class Bank(PlainState):
    def __init__(self):
        self.balances = {}   # account name -> balance, in the order accounts were opened

    def open(self, account, initial=0):
        if account in self.balances:
            raise ValueError(f"account {account!r} already exists")
        if not (type(initial) in (int, float) and initial == 0):
            _check_amount(initial)
        self.balances[account] = initial

    def close(self, account):
        """Close an account; returns what was left in it."""
        return self.balances.pop(self._existing(account))

    def deposit(self, account, amount):
        self._existing(account)
        _check_amount(amount)
        self.balances[account] += amount
        return self.balances[account]

    def withdraw(self, account, amount):
        self._existing(account)
        _check_amount(amount)
        if amount > self.balances[account]:
            raise ValueError(f"insufficient funds in {account!r}: balance "
                             f"{self.balances[account]!r}, asked {amount!r}")
        self.balances[account] -= amount
        return self.balances[account]

    def transfer(self, source, target, amount):
        """Move ``amount`` from ``source`` to ``target``, all or nothing."""
        self._existing(target)
        self.withdraw(source, amount)
        self.balances[target] += amount

    @readonly
    def balance(self, account):
        return self.balances[self._existing(account)]

    @readonly
    def accounts(self):
        return list(self.balances)

    @readonly
    def total(self):
        return sum(self.balances.values())

    def _existing(self, account):
        if account not in self.balances:
            raise KeyError(account)
        return account

    def __str__(self):
        return f"Bank({self.balances!r})"


def _check_amount(amount):
    if isinstance(amount, bool) or not isinstance(amount, (int, float)):
        raise TypeError(f"an amount must be a number, not {type(amount).__name__}")
    if not amount > 0:   # also refuses NaN
        raise ValueError(f"amount must be positive, not {amount!r}")
