"""`python -m crmtui.cli`: the crmtui command."""

from crmtui.cli.main import main

main()
