from ingest_ftp.service import main

if __name__ == "__main__":
    main()
