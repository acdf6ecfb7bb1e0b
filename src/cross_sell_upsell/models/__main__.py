"""`python -m cross_sell_upsell.models`: the models command (cli/models.py), imported only when run."""

if __name__ == "__main__":
    from cross_sell_upsell.cli.models import main

    raise SystemExit(main())
