"""The README's Counter: the smallest useful replicated object."""

from concoord import readonly


class Counter():
    def __init__(self):
        self.value = 0

    def decrement(self):
        self.value -= 1

    def increment(self):
        self.value += 1

    @readonly
    def getvalue(self):
        return self.value

    def setvalue(self, value):
        self.value = value

    def __str__(self):
        return "The counter value is %d" % self.value
