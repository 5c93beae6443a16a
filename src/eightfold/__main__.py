from eightfold.cli import main

raise SystemExit(main())
