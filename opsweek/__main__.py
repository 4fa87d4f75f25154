from opsweek.cli.main import run

run()
