"""The gateway: the one public entry. Owns no business data; never imports services.*"""
