config dump
