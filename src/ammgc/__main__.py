from ammgc.cli import main

main()
